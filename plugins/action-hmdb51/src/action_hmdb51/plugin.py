"""Registration of HMDB51 (imports action_core only; the dataset code is imported on use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """HMDB51, splits 1-3 through ``split_number``."""
    register(
        "hmdb51",
        "action_hmdb51.datasets:hmdb51",
        summary="HMDB51: 51 classes, official splits 1-3 (split_number=1..3), videos or rawframes",
        num_classes=51,
        multi_label=False,
        example="action_hmdb51.example:tiny_hmdb51",
    )


@hookimpl
def action_register_presets(register) -> None:
    """MMAction2's HMDB51 recipe."""
    register(
        "tsn_r50_1x1x8_50e_hmdb51_split1_rgb",
        "action_hmdb51.presets:tsn_r50_1x1x8_50e_hmdb51_split1_rgb",
        summary="TSN R50 8 segments, HMDB51 split 1 (ImageNet-pretrained)",
        dataset="hmdb51",
    )


@hookimpl
def action_register_commands(register) -> None:
    """``action-run hmdb51 prepare``."""
    register(
        "hmdb51",
        "action_hmdb51.commands:main",
        summary="`hmdb51 prepare --root DIR`: check a copy, write lists",
    )
