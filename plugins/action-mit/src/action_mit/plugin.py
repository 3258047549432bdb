"""Registration of Moments in Time and Multi-Moments in Time (imports action_core only)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """``mit`` (single-label) and ``mmit`` (multi-label)."""
    register(
        "mit",
        "action_mit.datasets:mit",
        summary="Moments in Time: 339 classes, single-label, labels from the class folders",
        num_classes=339,
        multi_label=False,
        example="action_mit.example:tiny_mit",
    )
    register(
        "mmit",
        "action_mit.datasets:mmit",
        summary="Multi-Moments in Time: 313 classes, multi-label (multi-hot targets; BCE loss, mAP)",
        num_classes=313,
        multi_label=True,
        example="action_mit.example:tiny_mmit",
    )


@hookimpl
def action_register_presets(register) -> None:
    """TSN on MiT and MMiT."""
    register(
        "tsn_r50_1x1x6_100e_mit_rgb",
        "action_mit.presets:tsn_r50_1x1x6_100e_mit_rgb",
        summary="TSN R50 6 segments, Moments in Time",
        dataset="mit",
    )
    register(
        "tsn_r101_1x1x5_50e_mmit_rgb",
        "action_mit.presets:tsn_r101_1x1x5_50e_mmit_rgb",
        summary="TSN R101 5 segments, Multi-Moments in Time (BCE, mAP)",
        dataset="mmit",
    )


@hookimpl
def action_register_commands(register) -> None:
    """``action-run mit prepare`` and ``action-run mmit prepare``."""
    register("mit", "action_mit.commands:main", summary="`mit prepare --root DIR`: check a copy, write lists")
    register(
        "mmit",
        "action_mit.commands:main_mmit",
        summary="`mmit prepare --root DIR`: check a copy, write lists",
    )
