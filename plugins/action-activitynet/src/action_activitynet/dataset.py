"""Feature datasets for temporal action localization (BSN/BMN style), and the registered builder.

One item per video (the localization sample schema, see README)::

    {"inputs": float32 (C, T), "gt_bbox": float64 (K, 2) in [0, 1], "label": int64 (K,),
     "segments": float64 (K, 2) seconds, "video_name": str, "index": int,
     "duration_second": float, "duration_frame": int, "feature_frame": int}

``gt_bbox`` is MMAction2's ``GenerateLocalizationLabels``: each segment divided by the seconds covered by
whole feature snippets (``feature_frame / duration_frame * duration_second``) and clipped to [0, 1].
Training targets (BMN's boundary-matching map and start/end scores, BSN's TEM scores) are built from
``gt_bbox`` by the models, as MMAction2 does.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from action_activitynet.annotations import VideoInfo, class_names, load_annotations
from action_activitynet.errors import AnnotationError
from action_activitynet.features import find_feature_file, load_features, rescale_features

__all__ = [
    "LocalizationFeatureDataset",
    "MMACTION2_LOCALIZATION_STEPS",
    "build",
    "collate_localization",
    "example",
    "gt_bbox_of",
]

#: MMAction2 pipeline steps this dataset performs itself; a preset may list them, other steps are refused.
MMACTION2_LOCALIZATION_STEPS = (
    "LoadLocalizationFeature",
    "GenerateLocalizationLabels",
    "PackLocalizationInputs",
)

_SPLIT_FILES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
    "full": "full",
}


def gt_bbox_of(video: VideoInfo) -> np.ndarray:
    """Normalised (K, 2) ground truth of a video, as MMAction2's ``GenerateLocalizationLabels``."""
    span = video.corrected_second
    out = [[max(min(1.0, s.start / span), 0.0), max(min(1.0, s.end / span), 0.0)] for s in video.segments]
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


class LocalizationFeatureDataset(Dataset):
    """Videos of ``videos`` with features ``<feature_dir>/<video><ext>`` rescaled to ``temporal_scale``.

    In training mode (``test_mode=False``) videos without annotated segments are left out (they give no
    training target). ``classes`` fixes the label order (default: sorted labels of ``videos``).
    ``check_files`` verifies at construction that every video has a feature file.
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


def _check_pipeline(pipeline: Sequence[Mapping[str, Any]]) -> None:
    for i, step in enumerate(pipeline or ()):
        kind = step.get("type") if isinstance(step, Mapping) else None
        if kind not in MMACTION2_LOCALIZATION_STEPS:
            raise ValueError(
                f"pipeline[{i}] = {step!r}: feature datasets load, rescale and label features themselves; "
                f"the pipeline may only list {', '.join(MMACTION2_LOCALIZATION_STEPS)} (or be empty)"
            )


def _annotation_file(root: Path, split: str, annotation_file: str | None) -> tuple[Path, str | None]:
    short = _SPLIT_FILES.get(split)
    if annotation_file:
        p = Path(annotation_file)
        return (p if p.is_absolute() else root / p), (short if short != "full" else None)
    if short is None:
        raise ValueError(
            f"unknown split {split!r}; use one of {', '.join(_SPLIT_FILES)} or give annotation_file"
        )
    for name in (f"anno_{short}.json", f"anet_anno_{short}.json"):
        if (root / name).is_file():
            return root / name, None
    for name in ("activity_net.v1-3.min.json", "activity_net.v1-3.json"):
        if (root / name).is_file() and short != "full":
            return root / name, short
    raise AnnotationError(
        f"no annotation file for split {split!r}: looked for anno_{short}.json, anet_anno_{short}.json and the "
        f"official activity_net.v1-3.min.json; run `action-run activitynet prepare` or give annotation_file",
        path=str(root),
    )


def _feature_dir(root: Path, temporal_scale: int, feature_dir: str | None) -> Path:
    if feature_dir:
        p = Path(feature_dir)
        return p if p.is_absolute() else root / p
    for cand in (
        f"csv_mean_{temporal_scale}",
        f"activitynet_feature_cuhk/csv_mean_{temporal_scale}",
        "features",
    ):
        if (root / cand).is_dir():
            return root / cand
    raise AnnotationError(
        f"no feature folder: looked for csv_mean_{temporal_scale}/, activitynet_feature_cuhk/"
        f"csv_mean_{temporal_scale}/ and features/; give feature_dir",
        path=str(root),
    )


def build(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any]] = (),
    test_mode: bool = False,
    annotation_file: str | None = None,
    feature_dir: str | None = None,
    temporal_scale: int = 100,
    feat_dim: int | None = None,
    feature_ext: str | None = None,
    classes: Sequence[str] | None = None,
) -> LocalizationFeatureDataset:
    """ActivityNet feature dataset of ``split`` (train/val/test/full) under ``root``.

    Annotations: ``annotation_file`` or ``anno_<split>.json`` (MMAction2 form) or the official JSON (of
    which the videos of ``split``'s subset are taken).
    Features: ``feature_dir`` or ``csv_mean_<T>/`` or ``features/`` (relative paths are under ``root``).
    """
    _check_pipeline(pipeline)
    base = Path(root)
    ann, subset = _annotation_file(base, split, annotation_file)
    videos = load_annotations(ann, subset=subset, official_only_subset=True)
    return LocalizationFeatureDataset(
        videos,
        _feature_dir(base, temporal_scale, feature_dir),
        temporal_scale=temporal_scale,
        feat_dim=feat_dim,
        feature_ext=feature_ext,
        test_mode=test_mode,
        classes=classes,
        source=str(ann),
    )


def example(tmp_dir: Path) -> dict[str, Any]:
    """A tiny on-disk ActivityNet-form feature set (3 videos, 16 x 8 features) and the builder kwargs for it."""
    import json

    rng = random.Random(0)
    feats = Path(tmp_dir) / "features"
    feats.mkdir(parents=True, exist_ok=True)
    anno = {}
    for i in range(3):
        name = f"v_example{i}"
        arr = np.random.default_rng(i).normal(size=(16, 8)).astype(np.float32)
        np.savetxt(
            feats / f"{name}.csv", arr, delimiter=",", header=",".join(f"f{c}" for c in range(8)), comments=""
        )
        t0 = rng.uniform(0, 10)
        anno[name] = {
            "duration_second": 30.0,
            "duration_frame": 900,
            "feature_frame": 896,
            "annotations": [{"segment": [t0, t0 + 8.0], "label": "jump" if i % 2 else "run"}],
        }
    (Path(tmp_dir) / "anno_train.json").write_text(json.dumps(anno), encoding="utf-8")
    return {
        "split": "train",
        "root": str(tmp_dir),
        "pipeline": [],
        "test_mode": False,
        "temporal_scale": 16,
        "feat_dim": 8,
    }
