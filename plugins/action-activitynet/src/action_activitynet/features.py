"""Per-video snippet features: one CSV or NPY file of T rows (temporal positions) x C columns per video.

CSV files may start with a header row (MMAction2's ``csv_mean_100`` files do; it is detected and skipped).
:func:`rescale_features` brings any T to the model's fixed temporal scale by linear interpolation at the
centres of ``temporal_scale`` equal bins (identity when T already equals the scale).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from action_activitynet.errors import AnnotationError

__all__ = ["FEATURE_EXTENSIONS", "find_feature_file", "load_features", "rescale_features"]

FEATURE_EXTENSIONS = (".csv", ".npy")


def find_feature_file(feature_dir: str | os.PathLike[str], video: str, ext: str | None = None) -> Path | None:
    """``<feature_dir>/<video><ext>`` (``ext`` None: the first of .csv, .npy that exists), or None."""
    exts = FEATURE_EXTENSIONS if ext is None else (ext if ext.startswith(".") else f".{ext}",)
    for e in exts:
        p = Path(feature_dir) / f"{video}{e}"
        if p.is_file():
            return p
    return None


def _read_csv(path: Path) -> np.ndarray:
    with open(path, encoding="utf-8") as f:
        first = f.readline()
    try:
        [float(x) for x in first.strip().split(",") if x.strip()]
        skip = 0
    except ValueError:
        skip = 1
    data = np.loadtxt(path, dtype=np.float32, delimiter=",", skiprows=skip, ndmin=2)
    return data


def load_features(
    path: str | os.PathLike[str], *, video: str, feat_dim: int | None = None, min_length: int = 2
) -> np.ndarray:
    """Load one video's features as float32 (T, C), checked.

    Raises :class:`~action_core.data.AnnotationError` naming the file, the video and the field when the file
    is missing or unreadable, not 2-D, has fewer than ``min_length`` rows, a column count other than
    ``feat_dim``, or a NaN/inf value (with its row and column).
    """
    p = Path(path)
    if not p.is_file():
        raise AnnotationError(
            f"video {video!r}: feature file missing; extract features for it or drop the video", path=str(p)
        )
    try:
        arr = np.load(p, allow_pickle=False) if p.suffix == ".npy" else _read_csv(p)
    except (ValueError, OSError) as e:
        raise AnnotationError(f"video {video!r}: field 'features' cannot be read ({e})", path=str(p)) from e
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise AnnotationError(
            f"video {video!r}: field 'features' must be a 2-D array (T rows x C columns), got shape {arr.shape}",
            path=str(p),
        )
    if arr.shape[0] < min_length:
        raise AnnotationError(
            f"video {video!r}: field 'features' has {arr.shape[0]} rows; need at least {min_length}",
            path=str(p),
        )
    if feat_dim is not None and arr.shape[1] != feat_dim:
        raise AnnotationError(
            f"video {video!r}: field 'features' has {arr.shape[1]} columns, expected feat_dim={feat_dim} "
            f"(shape {arr.shape}; files are T rows x C columns)",
            path=str(p),
        )
    arr = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise AnnotationError(
            f"video {video!r}: field 'features' holds {int(bad.sum())} non-finite value(s), first at row {r}, "
            f"column {c} ({arr[r, c]})",
            path=str(p),
        )
    return arr


def rescale_features(features: np.ndarray, temporal_scale: int) -> np.ndarray:
    """Resample (T, C) features to (temporal_scale, C) by linear interpolation between snippet centres."""
    t = features.shape[0]
    if t == temporal_scale:
        return features
    if temporal_scale < 1:
        raise ValueError(f"temporal_scale must be >= 1, got {temporal_scale}")
    # positions of the new bin centres in units of old snippets (old centres sit at 0.5, 1.5, ...)
    pos = (np.arange(temporal_scale) + 0.5) * (t / temporal_scale) - 0.5
    pos = np.clip(pos, 0.0, t - 1.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo)[:, None]
    return ((1.0 - w) * features[lo] + w * features[hi]).astype(np.float32)
