"""The temporal action localizer base class, and the target and loss pieces BMN and BSN share.

A localizer works on collated batches of localization samples (:mod:`action_core.data.localization`):
``batch["inputs"]`` (N, C, T) snippet features, ``batch["gt_bbox"]`` a list of (K_i, 2) segments normalised
to [0, 1], ``batch["video_name"]`` and the timing fields ``duration_second`` / ``duration_frame`` /
``feature_frame``. The engine drives it through the step protocol of :mod:`action_core.models.steps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "BaseLocalizer",
    "binary_logistic_regression_loss",
    "temporal_anchors",
    "temporal_iop",
    "temporal_iou_1d",
]


class BaseLocalizer(nn.Module):
    """A temporal action localizer (``task = "localization"``).

    Subclasses implement ``forward(inputs)`` (the raw network outputs), ``training_step(batch)`` (a dict of
    scalar tensors whose ``"loss"`` entry is optimised; the others are logged) and ``predict_step(batch)``
    (per video ``(video_name, result)``: a list of ``{"segment": [t0, t1] seconds, "score"}`` proposals or,
    for an intermediate stage such as BSN's TEM, an array).
    """

    #: evaluated with the localization metrics on the dataset's ground truth
    task = "localization"
    #: layout of ``inputs``: N samples, C feature channels, T temporal positions
    input_format = "NCT"

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Training losses of one collated batch; ``"loss"`` is the total."""
        raise NotImplementedError(f"{type(self).__name__} does not implement training_step(batch)")

    def predict_step(self, batch: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """Per-video predictions of one collated batch."""
        raise NotImplementedError(f"{type(self).__name__} does not implement predict_step(batch)")


def temporal_anchors(
    tscale: int, tmin_offset: float = 0.0, tmax_offset: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Anchor ``i`` spans ``[(i + tmin_offset) / T, (i + tmax_offset) / T]`` (float64, as MMAction2 builds them)."""
    gap = 1.0 / tscale
    idx = np.arange(tscale, dtype=np.float64)
    return gap * (idx + tmin_offset), gap * (idx + tmax_offset)


def temporal_iop(anchor_min: Any, anchor_max: Any, gt_min: Any, gt_max: Any) -> np.ndarray:
    """Intersection of anchors with ground truth over the anchor length (broadcasting numpy arrays)."""
    length = np.asarray(anchor_max) - np.asarray(anchor_min)
    inter = np.maximum(np.minimum(anchor_max, gt_max) - np.maximum(anchor_min, gt_min), 0.0)
    return np.divide(inter, length)


def temporal_iou_1d(anchor_min: Any, anchor_max: Any, gt_min: Any, gt_max: Any) -> np.ndarray:
    """tIoU of anchors with ground truth, in MMAction2's arithmetic (``union = len - inter + gt_len``)."""
    length = np.asarray(anchor_max) - np.asarray(anchor_min)
    inter = np.maximum(np.minimum(anchor_max, gt_max) - np.maximum(anchor_min, gt_min), 0.0)
    union = length - inter + np.asarray(gt_max) - np.asarray(gt_min)
    return np.divide(inter, union)


def binary_logistic_regression_loss(
    score: torch.Tensor,
    label: torch.Tensor,
    threshold: float = 0.5,
    ratio_range: Sequence[float] = (1.05, 21.0),
    eps: float = 1e-5,
) -> torch.Tensor:
    """Class-balanced binary log loss of BSN/BMN boundary scores.

    Positions with ``label > threshold`` are positives. With ``r = entries / max(positives, 1)`` clipped to
    ``ratio_range``, positives weigh ``r / 2`` and negatives ``r / (2 (r - 1))``; the result is the mean
    negative weighted log-likelihood over all entries.
    """
    label = label.reshape(-1).to(score.device)
    score = score.reshape(-1)
    positive = (label > threshold).float()
    ratio = label.numel() / torch.clamp(positive.sum(), min=1.0)
    ratio = torch.clamp(ratio, float(ratio_range[0]), float(ratio_range[1]))
    w_pos = 0.5 * ratio
    w_neg = 0.5 * ratio / (ratio - 1.0)
    log_lik = w_pos * positive * torch.log(score + eps) + w_neg * (1.0 - positive) * torch.log(
        1.0 - score + eps
    )
    return -log_lik.mean()
