"""(BSN tests) A small generator of localization features with planted action segments (test helper, no dependencies)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def make_feature_set(
    root: Path,
    *,
    num_videos: int,
    temporal_scale: int,
    feat_dim: int,
    seed: int,
    split: str = "train",
    max_segments: int = 2,
    signal: float = 2.0,
) -> Path:
    """Write ``features/<video>.csv`` ((temporal_scale, feat_dim), header row) and ``anno_<split>.json``.

    Background rows are unit noise; rows inside a segment get a fixed class direction added with
    amplitude ``signal``, so boundaries are visible at row resolution. Returns ``root``.
    """
    rng = np.random.default_rng(seed)
    direction = np.random.default_rng(12345).normal(size=(2, feat_dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True) / np.sqrt(feat_dim)
    feats = root / "features"
    feats.mkdir(parents=True, exist_ok=True)
    anno = {}
    for i in range(num_videos):
        name = f"v_{split}{seed}_{i:03d}"
        duration_frame = int(rng.integers(600, 3000))
        feature_frame = duration_frame // 16 * 16
        duration = duration_frame / 30.0
        span = feature_frame / duration_frame * duration
        x = rng.normal(size=(temporal_scale, feat_dim))
        count = int(rng.integers(1, max_segments + 1))
        cuts = np.sort(rng.choice(np.arange(1, temporal_scale), size=2 * count, replace=False))
        anns = []
        for k in range(count):
            a, b = int(cuts[2 * k]), int(cuts[2 * k + 1])
            label = int(rng.integers(2))
            x[a:b] += signal * direction[label]
            anns.append(
                {"segment": [a / temporal_scale * span, b / temporal_scale * span], "label": f"c{label}"}
            )
        header = ",".join(f"f{c}" for c in range(feat_dim))
        np.savetxt(feats / f"{name}.csv", x, fmt="%.5f", delimiter=",", header=header, comments="")
        anno[name] = {
            "duration_second": duration,
            "duration_frame": duration_frame,
            "feature_frame": feature_frame,
            "annotations": anns,
        }
    (root / f"anno_{split}.json").write_text(json.dumps(anno), encoding="utf-8")
    return root
