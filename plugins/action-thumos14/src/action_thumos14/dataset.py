"""THUMOS14 feature dataset (core's localization samples, :mod:`action_core.api`) and its builder.

Layout under ``root`` (each piece can also be given explicitly)::

    annotations/val/<Class>_val.txt ...        (or TH14_Temporal_Annotations_Validation/annotation/)
    annotations/test/<Class>_test.txt ...      (or TH14_Temporal_Annotations_Test/annotation/)
    durations.json | durations.csv             video durations in seconds (needed to clip segments)
    features/<video>.csv | .npy                T x C snippet features

Labels are the 0-based index in :data:`~action_thumos14.annotations.THUMOS14_CLASSES` (UCF101 id order).
Ambiguous segments are no training targets and are left out of :meth:`Thumos14FeatureDataset.ground_truth`
unless asked for (the THUMOS14 mAP drops them itself).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from action_core.api import (
    AnnotationError,
    LocalizationFeatureDataset,
    VideoInfo,
    check_localization_pipeline,
)
from action_thumos14.annotations import AMBIGUOUS, THUMOS14_CLASSES, load_durations, read_temporal_annotations

__all__ = ["Thumos14FeatureDataset", "build", "example", "video_infos"]

_ANNOTATION_DIRS = {
    "val": ("annotations/val", "TH14_Temporal_Annotations_Validation/annotation", "annotations"),
    "test": ("annotations/test", "TH14_Temporal_Annotations_Test/annotation", "annotations"),
}


def video_infos(
    annotations: Mapping[str, Sequence[Any]], durations: Mapping[str, float], *, fps: float = 30.0
) -> tuple[dict[str, VideoInfo], dict[str, list[Any]]]:
    """Split read annotations into VideoInfo (action segments only) and the Ambiguous segments per video.

    ``duration_frame = round(duration * fps)`` and ``feature_frame = duration_frame``: the features are
    taken to cover the whole video (THUMOS14 frame rates vary; only the ratio matters here).
    """
    infos, ambiguous = {}, {}
    for video, segs in annotations.items():
        frames = max(1, int(round(durations[video] * fps)))
        infos[video] = VideoInfo(
            name=video,
            duration_second=float(durations[video]),
            duration_frame=frames,
            feature_frame=frames,
            segments=tuple(s for s in segs if s.label != AMBIGUOUS),
        )
        ambiguous[video] = [s for s in segs if s.label == AMBIGUOUS]
    return infos, ambiguous


class Thumos14FeatureDataset(LocalizationFeatureDataset):
    """Core's :class:`~action_core.api.LocalizationFeatureDataset` over THUMOS14 with Ambiguous
    segments kept aside for evaluation."""

    def __init__(
        self,
        videos: Mapping[str, VideoInfo],
        ambiguous: Mapping[str, list[Any]],
        feature_dir: str | os.PathLike[str],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("classes", THUMOS14_CLASSES)
        super().__init__(videos, feature_dir, **kwargs)
        self.ambiguous = dict(ambiguous)

    def ground_truth(
        self, *, include_ambiguous: bool = False, ignore_labels: Sequence[str] = ()
    ) -> dict[str, list[dict[str, Any]]]:
        """``{video: [{"segment", "label"}]}``; with ``include_ambiguous`` also the Ambiguous segments
        (label ``Ambiguous``) for :func:`~action_core.evaluation.localization.thumos14_detection_map`."""
        gt = super().ground_truth(ignore_labels=ignore_labels)
        if include_ambiguous:
            for video in gt:
                gt[video] += [
                    {"segment": [s.start, s.end], "label": AMBIGUOUS} for s in self.ambiguous.get(video, [])
                ]
        return gt


def _find(root: Path, given: str | None, candidates: Sequence[str], what: str) -> Path:
    if given:
        p = Path(given)
        return p if p.is_absolute() else root / p
    for c in candidates:
        if (root / c).exists():
            return root / c
    raise AnnotationError(
        f"no {what}: looked for {', '.join(candidates)}; pass it explicitly", path=str(root)
    )


def build(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any]] = (),
    test_mode: bool = False,
    annotation_dir: str | None = None,
    durations: str | Mapping[str, float] | None = None,
    feature_dir: str | None = None,
    temporal_scale: int = 100,
    feat_dim: int | None = None,
    feature_ext: str | None = None,
    fps: float = 30.0,
) -> Thumos14FeatureDataset:
    """THUMOS14 feature dataset of ``split`` (``val``: the usual training set, or ``test``)."""
    check_localization_pipeline(pipeline)
    subset = {"validation": "val", "train": "val"}.get(split, split)
    if subset not in _ANNOTATION_DIRS:
        raise ValueError(f"THUMOS14 splits are val (train on it) and test; got {split!r}")
    base = Path(root)
    ann_dir = _find(base, annotation_dir, _ANNOTATION_DIRS[subset], f"{subset} annotation folder")
    if durations is None or isinstance(durations, str):
        durations = load_durations(
            _find(base, durations, ("durations.json", "durations.csv"), "durations file")
        )
    else:
        durations = load_durations(durations)
    anns = read_temporal_annotations(ann_dir, subset, durations=durations)
    infos, ambiguous = video_infos(anns, durations, fps=fps)
    return Thumos14FeatureDataset(
        infos,
        ambiguous,
        _find(base, feature_dir, ("features",), "feature folder"),
        temporal_scale=temporal_scale,
        feat_dim=feat_dim,
        feature_ext=feature_ext,
        test_mode=test_mode,
        source=str(ann_dir),
    )


def example(tmp_dir: Path) -> dict[str, Any]:
    """A tiny THUMOS14-form set (2 videos, 12 x 4 features, one Ambiguous segment) and builder kwargs."""
    root = Path(tmp_dir)
    ann = root / "annotations" / "val"
    ann.mkdir(parents=True, exist_ok=True)
    (ann / "BaseballPitch_val.txt").write_text(
        "video_validation_0000001 1.0 4.5\nvideo_validation_0000002 2.0 9.0\n"
    )
    (ann / "Ambiguous_val.txt").write_text("video_validation_0000001 6.0 7.0\n")
    (root / "durations.json").write_text(
        json.dumps({"video_validation_0000001": 10.0, "video_validation_0000002": 12.0})
    )
    (root / "features").mkdir(exist_ok=True)
    for i in (1, 2):
        np.save(
            root / "features" / f"video_validation_000000{i}.npy",
            np.random.default_rng(i).normal(size=(12, 4)).astype(np.float32),
        )
    return {
        "split": "val",
        "root": str(root),
        "pipeline": [],
        "test_mode": False,
        "temporal_scale": 12,
        "feat_dim": 4,
    }
