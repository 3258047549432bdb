"""Localization samples: per-video snippet features with their annotated segments, the feature dataset base
and the collate of its batches.

One item per video (the localization sample)::

    {"inputs": float32 (C, T), "gt_bbox": float64 (K, 2) in [0, 1], "label": int64 (K,),
     "segments": float64 (K, 2) seconds, "video_name": str, "index": int,
     "duration_second": float, "duration_frame": int, "feature_frame": int}

``gt_bbox`` is MMAction2's ``GenerateLocalizationLabels``: each segment divided by the seconds covered by
whole feature snippets (``feature_frame / duration_frame * duration_second``) and clipped to [0, 1].
Training targets (BMN's boundary-matching map, BSN's TEM scores) are built from ``gt_bbox`` by the models,
as MMAction2 does. Feature files are ``<video>.csv`` (T rows x C columns, a header row is detected and
skipped) or ``<video>.npy``; :func:`rescale_features` brings any T to the model's fixed temporal scale by
linear interpolation at the centres of ``temporal_scale`` equal bins (identity when T already equals it).

Dataset plugins (ActivityNet, THUMOS14) read their annotation formats into :class:`VideoInfo` records and
build a :class:`LocalizationFeatureDataset` (or a subclass) over them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from torch.utils.data import Dataset

from action_core.data.lists import AnnotationError

__all__ = [
    "FEATURE_EXTENSIONS",
    "MMACTION2_LOCALIZATION_STEPS",
    "LocalizationFeatureDataset",
    "Segment",
    "VideoInfo",
    "check_localization_pipeline",
    "class_names",
    "collate_localization",
    "find_feature_file",
    "gt_bbox_of",
    "load_features",
    "rescale_features",
]

#: MMAction2 pipeline steps this dataset performs itself; a preset may list them, other steps are refused.
MMACTION2_LOCALIZATION_STEPS = (
    "LoadLocalizationFeature",
    "GenerateLocalizationLabels",
    "PackLocalizationInputs",
)


@attrs.frozen
class Segment:
    """One annotated action: times in seconds and the class name."""

    start: float
    end: float
    label: str


@attrs.frozen
class VideoInfo:
    """One video of the MMAction2 form, checked."""

    name: str
    duration_second: float
    duration_frame: int
    feature_frame: int
    segments: tuple[Segment, ...]
    fps: float | None = None
    rfps: float | None = None
    subset: str | None = None

    @property
    def corrected_second(self) -> float:
        """Seconds covered by whole feature snippets (the span that the features normalise to [0, 1])."""
        return float(self.feature_frame) / self.duration_frame * self.duration_second

    def to_dict(self) -> dict[str, Any]:
        """The MMAction2 form of this video."""
        out: dict[str, Any] = {
            "duration_second": self.duration_second,
            "duration_frame": self.duration_frame,
            "annotations": [{"segment": [s.start, s.end], "label": s.label} for s in self.segments],
            "feature_frame": self.feature_frame,
        }
        if self.fps is not None:
            out["fps"] = self.fps
        if self.rfps is not None:
            out["rfps"] = self.rfps
        return out


def class_names(videos: Mapping[str, VideoInfo]) -> list[str]:
    """Sorted distinct labels of the annotated segments."""
    return sorted({s.label for v in videos.values() for s in v.segments})


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

    Raises :class:`~action_core.data.lists.AnnotationError` naming the file, the video and the field when the file
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


def gt_bbox_of(video: VideoInfo) -> np.ndarray:
    """Normalised (K, 2) ground truth of a video, as MMAction2's ``GenerateLocalizationLabels``."""
    span = video.corrected_second
    out = [[max(min(1.0, s.start / span), 0.0), max(min(1.0, s.end / span), 0.0)] for s in video.segments]
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


class LocalizationFeatureDataset(Dataset):
    """Videos of ``videos`` with features ``<feature_dir>/<video><ext>`` rescaled to ``temporal_scale``.

    In training mode (``test_mode=False``) videos without annotated segments are left out (they give no
    training target). ``classes`` fixes the label order (default: sorted labels of ``videos``).
    ``check_files`` verifies at construction that every video has a feature file. The engine batches its
    items with :meth:`collate` (segment counts differ between videos) and evaluates predictions against
    :meth:`ground_truth`.
    """

    multi_label = False

    def __init__(
        self,
        videos: Mapping[str, VideoInfo],
        feature_dir: str | os.PathLike[str],
        *,
        temporal_scale: int = 100,
        feat_dim: int | None = None,
        feature_ext: str | None = None,
        test_mode: bool = False,
        classes: Sequence[str] | None = None,
        check_files: bool = True,
        source: str = "<annotations>",
    ) -> None:
        if temporal_scale < 2:
            raise ValueError(f"temporal_scale must be >= 2, got {temporal_scale}")
        self.feature_dir = Path(feature_dir)
        self.temporal_scale = int(temporal_scale)
        self.feat_dim = feat_dim
        self.feature_ext = feature_ext
        self.test_mode = test_mode
        self.classes = list(classes) if classes is not None else class_names(videos)
        self._class_index = {c: i for i, c in enumerate(self.classes)}
        items = [v for v in videos.values() if test_mode or v.segments]
        for v in items:
            for j, s in enumerate(v.segments):
                if s.label not in self._class_index and s.label:
                    raise AnnotationError(
                        f"video {v.name!r}: field 'annotations[{j}].label' = {s.label!r} is not one of the "
                        f"{len(self.classes)} classes",
                        path=source,
                    )
        if check_files:
            missing = [
                v.name for v in items if find_feature_file(self.feature_dir, v.name, feature_ext) is None
            ]
            if missing:
                raise AnnotationError(
                    f"{len(missing)} video(s) have no feature file in {str(self.feature_dir)!r} "
                    f"(ext {feature_ext or '.csv/.npy'}): {', '.join(missing[:5])}"
                    f"{' ...' if len(missing) > 5 else ''}; extract them or remove them from the annotations",
                    path=source,
                )
        self.videos = items

    def __len__(self) -> int:
        return len(self.videos)

    def features(self, index: int) -> np.ndarray:
        """(T, C) features of video ``index`` at the dataset's temporal scale."""
        v = self.videos[index]
        path = find_feature_file(self.feature_dir, v.name, self.feature_ext) or (
            self.feature_dir / f"{v.name}{self.feature_ext or '.csv'}"
        )
        return rescale_features(
            load_features(path, video=v.name, feat_dim=self.feat_dim), self.temporal_scale
        )

    def __getitem__(self, index: int) -> dict[str, Any]:
        v = self.videos[index]
        feats = self.features(index)
        labels = [self._class_index.get(s.label, -1) for s in v.segments]
        return {
            "inputs": torch.from_numpy(np.ascontiguousarray(feats.T)),
            "gt_bbox": torch.from_numpy(gt_bbox_of(v)),
            "label": torch.tensor(labels, dtype=torch.int64),
            "segments": torch.tensor([[s.start, s.end] for s in v.segments], dtype=torch.float64).reshape(
                -1, 2
            ),
            "video_name": v.name,
            "index": index,
            "duration_second": v.duration_second,
            "duration_frame": v.duration_frame,
            "feature_frame": v.feature_frame,
        }

    @staticmethod
    def collate(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """How the engine batches these items: :func:`collate_localization`."""
        return collate_localization(batch)

    def ground_truth(self, *, ignore_labels: Sequence[str] = ()) -> dict[str, list[dict[str, Any]]]:
        """``{video name: [{"segment": [t0, t1], "label"}]}`` in seconds, for the ActivityNet metrics."""
        return {
            v.name: [
                {"segment": [s.start, s.end], "label": s.label}
                for s in v.segments
                if s.label not in ignore_labels
            ]
            for v in self.videos
        }


def collate_localization(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stack ``inputs`` (N, C, T) and ``index``; every other key becomes a list (segment counts differ)."""
    out: dict[str, Any] = {k: [item[k] for item in batch] for k in batch[0]}
    out["inputs"] = torch.stack(out["inputs"])
    out["index"] = torch.tensor(out["index"], dtype=torch.int64)
    return out


def check_localization_pipeline(pipeline: Sequence[Mapping[str, Any]]) -> None:
    """Refuse pipeline steps other than MMAction2's localization loading steps, which feature datasets perform
    themselves (so MMAction2 presets may keep listing them)."""
    for i, step in enumerate(pipeline or ()):
        kind = step.get("type") if isinstance(step, Mapping) else None
        if kind not in MMACTION2_LOCALIZATION_STEPS:
            raise ValueError(
                f"pipeline[{i}] = {step!r}: feature datasets load, rescale and label features themselves; "
                f"the pipeline may only list {', '.join(MMACTION2_LOCALIZATION_STEPS)} (or be empty)"
            )
