"""MMAction2's Moments in Time recipes: TSN on MiT (softmax, top-k) and on MMiT (multi-label BCE, mAP)."""

from __future__ import annotations

from typing import Any

from action_core.api import recognition_preset


def tsn_r50_1x1x6_100e_mit_rgb() -> dict[str, Any]:
    """TSN ResNet-50, 6 segments, 100 epochs on Moments in Time (339 classes)."""
    return recognition_preset(
        model="tsn_r50",
        dataset="mit",
        num_classes=339,
        num_segments=6,
        epochs=100,
        lr=0.005,
        milestones=[40, 80],
        model_args={"pretrained": True},
        test_clips=25,
        batch_size=16,
    )


def tsn_r101_1x1x5_50e_mmit_rgb() -> dict[str, Any]:
    """TSN ResNet-101, 5 segments, 50 epochs on Multi-Moments in Time: sigmoid BCE loss, mAP metric."""
    return recognition_preset(
        model="tsn_r101",
        dataset="mmit",
        num_classes=313,
        num_segments=5,
        epochs=50,
        lr=0.01,
        milestones=[20, 40],
        model_args={"pretrained": True, "multi_label": True},
        test_clips=25,
        batch_size=16,
        metrics=["mAP"],
        best_metric="mAP",
    )
