"""Synthetic snippet features with planted action segments, in MMAction2's ActivityNet-for-BSN/BMN form.

Each video is a ``temporal_scale`` × ``feat_dim`` feature array: background rows are noise around a per-video
offset, and rows whose temporal centre lies inside an annotated segment are noise around that segment's class
prototype, so segment boundaries are sharp at row resolution. Layout of one generated set::

    synthetic_localization-<hash>/
      features/<video>.csv          header "f0,...,f{C-1}", then temporal_scale rows of C values
      anno_train.json anno_val.json anno_test.json anno_full.json
                                    {video: {duration_second, duration_frame, feature_frame, fps, rfps,
                                             annotations: [{segment: [t0, t1] seconds, label}]}}
      classes.txt  config.json  manifest.json
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import attrs
import numpy as np

from action_synthetic.cache import encode_json, ensure_files

LOCALIZATION_SPLITS = ("train", "val", "test", "full")
_GENERATOR_VERSION = 1
_FPS = 30.0
_SNIPPET = 16  # frames per feature snippet; feature_frame is the duration cut to whole snippets


@attrs.frozen
class LocalizationFeatures:
    """A generated localization feature set on disk."""

    folder: Path
    classes: list[str]
    video_ids: dict[str, list[str]]

    @property
    def feature_dir(self) -> Path:
        """Folder of the per-video CSV feature files (``<video id>.csv``)."""
        return self.folder / "features"

    def annotation_file(self, split: str) -> Path:
        """The annotation JSON of ``split`` (train, val, test or full)."""
        if split not in LOCALIZATION_SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(LOCALIZATION_SPLITS)}")
        return self.folder / f"anno_{split}.json"


def _video_id(index: int) -> str:
    return f"v_synthetic_{index:05d}"


def _prototypes(seed: int, num_classes: int, feat_dim: int, separation: float) -> np.ndarray:
    """Class prototypes: random directions scaled to length ``separation`` (in units of the noise std)."""
    rng = np.random.default_rng([seed, 1 << 20])
    protos = rng.normal(size=(num_classes, feat_dim))
    return separation * protos / np.linalg.norm(protos, axis=1, keepdims=True)


def _sample_video(
    rng: np.random.Generator, *, num_classes: int, max_segments: int
) -> tuple[dict, list[tuple[float, float, int]]]:
    """Timing fields and ``(t0, t1, class)`` segments (seconds, non-overlapping, within the featured span)."""
    duration = round(float(rng.uniform(20.0, 120.0)), 2)
    duration_frame = int(round(duration * _FPS))
    feature_frame = duration_frame - duration_frame % _SNIPPET
    featured = feature_frame / duration_frame * duration
    count = int(rng.integers(1, max_segments + 1))
    lengths = rng.uniform(0.08, 0.3, size=count)
    gaps = rng.dirichlet(np.ones(count + 1)) * (1.0 - lengths.sum())
    segments = []
    start = 0.0
    for k in range(count):
        start += gaps[k]
        t0, t1 = round(start * featured, 2), round((start + lengths[k]) * featured, 2)
        segments.append((t0, t1, int(rng.integers(num_classes))))
        start += lengths[k]
    timing = {
        "duration_second": duration,
        "duration_frame": duration_frame,
        "feature_frame": feature_frame,
        "fps": _FPS,
        "rfps": _FPS,
    }
    return timing, segments


def _features(
    rng: np.random.Generator,
    timing: dict,
    segments: list[tuple[float, float, int]],
    prototypes: np.ndarray,
    temporal_scale: int,
    noise_std: float,
) -> np.ndarray:
    featured = timing["feature_frame"] / timing["duration_frame"] * timing["duration_second"]
    centres = (np.arange(temporal_scale) + 0.5) / temporal_scale * featured
    feat_dim = prototypes.shape[1]
    means = np.repeat(rng.normal(0.0, 0.3, size=(1, feat_dim)), temporal_scale, axis=0)
    for t0, t1, label in segments:
        means[(centres >= t0) & (centres < t1)] = prototypes[label]
    return means + rng.normal(0.0, noise_std, size=means.shape)


def _csv(features: np.ndarray) -> bytes:
    buffer = io.StringIO()
    header = ",".join(f"f{i}" for i in range(features.shape[1]))
    np.savetxt(buffer, features, fmt="%.6f", delimiter=",", header=header, comments="")
    return buffer.getvalue().encode()


def generate_localization_features(
    root: str | Path,
    *,
    num_videos: int = 60,
    temporal_scale: int = 100,
    feat_dim: int = 16,
    num_classes: int = 4,
    max_segments: int = 3,
    separation: float = 3.0,
    noise_std: float = 1.0,
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
) -> LocalizationFeatures:
    """Generate (or verify and repair) a synthetic localization feature set under ``root``; deterministic in all
    arguments.

    ``separation`` is the distance of each class prototype from the origin in units of ``noise_std``; splits take
    consecutive video indices (train first). ``anno_full.json`` holds every video.
    """
    if num_videos < 1 or temporal_scale < 10 or feat_dim < 1 or num_classes < 1 or max_segments < 1:
        raise ValueError(
            "need num_videos >= 1, temporal_scale >= 10, feat_dim >= 1, num_classes >= 1, max_segments >= 1; got "
            f"{num_videos=}, {temporal_scale=}, {feat_dim=}, {num_classes=}, {max_segments=}"
        )
    if len(split_fractions) != 3 or min(split_fractions) < 0 or abs(sum(split_fractions) - 1) > 1e-6:
        raise ValueError(
            f"split_fractions: give (train, val, test) fractions summing to 1, got {split_fractions}"
        )
    identity = {
        "generator": _GENERATOR_VERSION,
        "num_videos": num_videos,
        "temporal_scale": temporal_scale,
        "feat_dim": feat_dim,
        "num_classes": num_classes,
        "max_segments": max_segments,
        "separation": float(separation),
        "noise_std": float(noise_std),
        "split_fractions": [float(f) for f in split_fractions],
        "seed": seed,
    }
    folder = Path(root).expanduser() / (
        "synthetic_localization-" + hashlib.sha256(encode_json(identity)).hexdigest()[:12]
    )
    classes = [f"action_{k:02d}" for k in range(num_classes)]
    prototypes = _prototypes(seed, num_classes, feat_dim, separation)

    annotations: dict[str, dict] = {}
    features: dict[str, Callable[[], bytes]] = {}
    for index in range(num_videos):
        rng = np.random.default_rng([seed, index])
        timing, segments = _sample_video(rng, num_classes=num_classes, max_segments=max_segments)
        vid = _video_id(index)
        annotations[vid] = {
            **timing,
            "annotations": [{"segment": [t0, t1], "label": classes[k]} for t0, t1, k in segments],
        }
        array = _features(rng, timing, segments, prototypes, temporal_scale, noise_std)
        features[f"features/{vid}.csv"] = functools.partial(_csv, array)

    n_val = round(split_fractions[1] * num_videos)
    n_test = round(split_fractions[2] * num_videos)
    ids = list(annotations)
    n_train = num_videos - n_val - n_test
    video_ids = {
        "train": ids[:n_train],
        "val": ids[n_train : n_train + n_val],
        "test": ids[n_train + n_val :],
        "full": ids,
    }
    producers: dict[str, Callable[[], bytes]] = dict(features)
    for split, split_ids in video_ids.items():
        producers[f"anno_{split}.json"] = functools.partial(
            encode_json, {v: annotations[v] for v in split_ids}
        )
    producers["classes.txt"] = lambda: "".join(f"{c}\n" for c in classes).encode()
    producers["config.json"] = functools.partial(encode_json, identity)
    ensure_files(folder, producers, identity)
    return LocalizationFeatures(folder, classes, video_ids)
