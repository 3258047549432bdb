"""Registration of UCF101 (imports action_core only; the dataset code is imported on use)."""

from __future__ import annotations

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_register_datasets(register) -> None:
    """UCF101, splits 1-3 through ``split_number``."""
    register(
        "ucf101",
        "action_ucf101.datasets:ucf101",
        summary="UCF101: 101 classes, official splits 1-3 (split_number=1..3), videos or rawframes",
        num_classes=101,
        multi_label=False,
        example="action_ucf101.example:tiny_ucf101",
    )


@hookimpl
def action_register_presets(register) -> None:
    """MMAction2's UCF101 recipe."""
    register(
        "tsn_r50_1x1x3_75e_ucf101_split1_rgb",
        "action_ucf101.presets:tsn_r50_1x1x3_75e_ucf101_split1_rgb",
        summary="TSN R50 3 segments, UCF101 split 1 (ImageNet-pretrained)",
        dataset="ucf101",
    )


@hookimpl
def action_register_commands(register) -> None:
    """``action-run ucf101 prepare``."""
    register(
        "ucf101",
        "action_ucf101.commands:main",
        summary="`ucf101 prepare --root DIR`: check a copy, write lists",
    )
