"""MMAction2's UCF101 recipes as presets (ImageNet-pretrained TSN, split 1)."""

from __future__ import annotations

from typing import Any

from action_core.api import recognition_preset


def tsn_r50_1x1x3_75e_ucf101_split1_rgb() -> dict[str, Any]:
    """TSN ResNet-50, 3 segments, 75 epochs on UCF101 split 1."""
    return recognition_preset(
        model="tsn_r50",
        dataset="ucf101",
        num_classes=101,
        num_segments=3,
        epochs=75,
        lr=0.00128,
        milestones=[],
        model_args={"pretrained": True},
        split_args={"split_number": 1},
        test_clips=25,
        batch_size=32,
        weight_decay=5e-4,
    )
