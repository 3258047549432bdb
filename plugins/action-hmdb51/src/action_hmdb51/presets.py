"""MMAction2's HMDB51 recipe as a preset (TSN, split 1)."""

from __future__ import annotations

from typing import Any

from action_core.api import recognition_preset


def tsn_r50_1x1x8_50e_hmdb51_split1_rgb() -> dict[str, Any]:
    """TSN ResNet-50, 8 segments, 50 epochs on HMDB51 split 1 (ImageNet-pretrained)."""
    return recognition_preset(
        model="tsn_r50",
        dataset="hmdb51",
        num_classes=51,
        num_segments=8,
        epochs=50,
        lr=0.00125,
        milestones=[20, 40],
        model_args={"pretrained": True},
        split_args={"split_number": 1},
        test_clips=25,
        batch_size=8,
        weight_decay=5e-4,
    )
