"""Registration of Something-Something V1/V2 (imports action_core only; dataset code is imported on use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """``sthv1`` (frames) and ``sthv2`` (webm)."""
    register(
        "sthv1",
        "action_something.datasets:sthv1",
        summary="Something-Something V1: 174 classes, JPEG frame folders, official CSVs",
        num_classes=174,
        multi_label=False,
        example="action_something.example:tiny_sthv1",
    )
    register(
        "sthv2",
        "action_something.datasets:sthv2",
        summary="Something-Something V2: 174 classes, webm videos, official JSON (class from template)",
        num_classes=174,
        multi_label=False,
        example="action_something.example:tiny_sthv2",
    )


@hookimpl
def action_register_presets(register) -> None:
    """TSM on V1."""
    register(
        "tsm_r50_1x1x8_50e_sthv1_rgb",
        "action_something.presets:tsm_r50_1x1x8_50e_sthv1_rgb",
        summary="TSM R50 8 segments, Something-Something V1, left/right flip label map",
        dataset="sthv1",
    )


@hookimpl
def action_register_commands(register) -> None:
    """``action-run sthv1 prepare``, ``action-run sthv2 prepare``, ``action-run something prepare --version N``."""
    register(
        "something", "action_something.commands:main", summary="`something prepare --version 1|2 --root DIR`"
    )
    register(
        "sthv1",
        "action_something.commands:main_v1",
        summary="`sthv1 prepare --root DIR`: check a copy, write lists",
    )
    register(
        "sthv2",
        "action_something.commands:main_v2",
        summary="`sthv2 prepare --root DIR`: check a copy, write lists",
    )
