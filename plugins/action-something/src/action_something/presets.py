"""TSM presets for Something-Something V1 (V2 recipes ship with the model plugins), with the flip label map."""

from __future__ import annotations

from typing import Any

from action_core.api import recognition_preset
from action_something.datasets import sthv1_flip_label_map


def tsm_r50_1x1x8_50e_sthv1_rgb() -> dict[str, Any]:
    """TSM ResNet-50, 8 segments, 50 epochs on Something-Something V1; flips swap left/right classes."""
    return recognition_preset(
        model="tsm_r50",
        dataset="sthv1",
        num_classes=174,
        num_segments=8,
        epochs=50,
        lr=0.01,
        milestones=[20, 40],
        model_args={"pretrained": True},
        test_clips=8,
        batch_size=8,
        weight_decay=5e-4,
        flip_label_map=sthv1_flip_label_map(),
    )
