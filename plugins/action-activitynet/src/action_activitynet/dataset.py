"""The ActivityNet feature dataset builder: annotation and feature files found under a root, read into core's
localization feature dataset (:class:`~action_core.api.LocalizationFeatureDataset`; its items are the
localization samples, see README).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from action_activitynet.annotations import load_annotations
from action_core.api import AnnotationError, LocalizationFeatureDataset, check_localization_pipeline

__all__ = ["build", "example"]

_SPLIT_FILES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
    "full": "full",
}


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
    check_localization_pipeline(pipeline)
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
