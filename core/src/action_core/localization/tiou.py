"""Temporal intersection over union (tIoU) of [start, end] segments, computed in float64.

float64 matters: ActivityNet scores a match with ``tIoU >= threshold``, and a segment that lands exactly
on a threshold (e.g. [0, 1] against [0, 2] at 0.5) must not drop below it through float32 rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_segments", "pairwise_temporal_iou", "temporal_iou"]


def as_segments(segments: Any, *, name: str = "segments") -> np.ndarray:
    """Return ``segments`` as a float64 (N, 2) array of [start, end]; a single [start, end] gives (1, 2)."""
    if hasattr(segments, "detach"):
        segments = segments.detach().cpu().double().numpy()
    arr = np.asarray(segments, dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr[None]
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must be [start, end] pairs of shape (N, 2); got shape {arr.shape}")
    return arr


def temporal_iou(segment: Any, candidates: Any) -> np.ndarray:
    """tIoU of one ``segment`` [start, end] with each of the (N, 2) ``candidates``; returns (N,) float64.

    The intersection is clipped at zero; a zero-length union (two identical empty segments) gives NaN.
    """
    seg = as_segments(segment, name="segment")
    if seg.shape[0] != 1:
        raise ValueError(f"segment must be a single [start, end] pair; got {seg.shape[0]} segments")
    return pairwise_temporal_iou(seg, candidates)[0]


def pairwise_temporal_iou(segments_a: Any, segments_b: Any) -> np.ndarray:
    """tIoU matrix of shape (len(a), len(b)) between two sets of [start, end] segments, float64.

    Same arithmetic as ActivityNet's ``segment_iou``: intersection = max(0, min(ends) - max(starts)),
    union = len(a) + len(b) - intersection.
    """
    a = as_segments(segments_a, name="segments_a")
    b = as_segments(segments_b, name="segments_b")
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    inter = inter.clip(0)
    union = (b[None, :, 1] - b[None, :, 0]) + (a[:, None, 1] - a[:, None, 0]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / union
