"""TSN presets for Kinetics-600 and -700 (Kinetics-400 recipes ship with the model plugins)."""

from __future__ import annotations

from typing import Any

from action_core.api import recognition_preset


def _tsn(dataset: str, num_classes: int) -> dict[str, Any]:
    return recognition_preset(
        model="tsn_r50",
        dataset=dataset,
        num_classes=num_classes,
        num_segments=3,
        epochs=100,
        lr=0.01,
        milestones=[40, 80],
        model_args={"pretrained": True},
        test_clips=25,
        batch_size=32,
    )


def tsn_r50_1x1x3_100e_kinetics600_rgb() -> dict[str, Any]:
    """TSN ResNet-50, 3 segments, 100 epochs on Kinetics-600."""
    return _tsn("kinetics600", 600)


def tsn_r50_1x1x3_100e_kinetics700_rgb() -> dict[str, Any]:
    """TSN ResNet-50, 3 segments, 100 epochs on Kinetics-700."""
    return _tsn("kinetics700", 700)
