"""BSN's proposal generation module (PGM): candidate proposals from TEM boundaries, and their
boundary-sensitive proposal (BSP) features, as MMAction2 1.2.0's ``bsn_utils``; and the step that runs a
trained TEM over a feature dataset and writes them (``action-run bsn pgm``), the PEM's dataset.

Files under the output folder (MMAction2's names and headers):

- ``tem_results/<video>.csv``: ``action,start,end,tmin,tmax``, one row per temporal position;
- ``pgm_proposals/<video>.csv``: ``tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa``, best first;
- ``pgm_features/<video>.npy``: (M, num_sample_action + num_sample_start + num_sample_end) float;
- ``anno_<split>.json``: the videos of each split of the TEM's config, MMAction2 form (timing and ground
  truth), and ``pgm.json``: the settings the proposals were generated with.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from action_core.api import AnnotationError, VideoInfo, temporal_iop, temporal_iou_1d

__all__ = [
    "PGM_DEFAULTS",
    "PROPOSAL_HEADER",
    "TEM_HEADER",
    "bsp_features",
    "candidate_proposals",
    "generate_proposals",
    "read_csv_table",
    "write_csv_table",
]

#: MMAction2's bsn_pgm_400x100 settings: candidate peaks, proposals kept per video (training / testing
#: videos) and the BSP feature sampling (16 + 8 + 8 = the PEM's 32 inputs)
PGM_DEFAULTS: dict[str, Any] = {
    "peak_threshold": 0.5,
    "top_k_train": 500,
    "top_k_test": 1000,
    "bsp_boundary_ratio": 0.2,
    "num_sample_start": 8,
    "num_sample_end": 8,
    "num_sample_action": 16,
    "num_sample_interp": 3,
}
_BSP_KEYS = (
    "bsp_boundary_ratio",
    "num_sample_start",
    "num_sample_end",
    "num_sample_action",
    "num_sample_interp",
)

TEM_HEADER = "action,start,end,tmin,tmax"
PROPOSAL_HEADER = "tmin,tmax,tmin_score,tmax_score,score,match_iou,match_ioa"


def write_csv_table(path: str | os.PathLike[str], rows: np.ndarray, header: str) -> Path:
    """Write a 2-D array as CSV with a header row (``np.savetxt`` default precision, as MMAction2)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(
        p, np.asarray(rows).reshape(-1, len(header.split(","))), header=header, delimiter=",", comments=""
    )
    return p


def read_csv_table(path: str | os.PathLike[str], *, header: str, video: str) -> np.ndarray:
    """Read a CSV written by :func:`write_csv_table` as float32 (rows, columns), checking its shape."""
    p = Path(path)
    if not p.is_file():
        raise AnnotationError(
            f"video {video!r}: intermediate file missing; run the previous BSN stage", path=str(p)
        )
    try:
        arr = np.loadtxt(p, dtype=np.float32, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as e:
        raise AnnotationError(f"video {video!r}: malformed table ({e})", path=str(p)) from e
    cols = len(header.split(","))
    if arr.size and arr.shape[1] != cols:
        raise AnnotationError(
            f"video {video!r}: expected {cols} columns ({header}), got {arr.shape[1]}", path=str(p)
        )
    return arr.reshape(-1, cols)


def _peaks(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Both ends, strict local maxima and positions above ``threshold * max``."""
    mask = np.zeros(len(scores), dtype=bool)
    mask[[0, -1]] = True
    mid = scores[1:-1]
    mask[1:-1] |= ((mid > scores[2:]) & (mid > scores[:-2])) | (mid > threshold * scores.max())
    return mask


def candidate_proposals(
    tem_result: np.ndarray, video: VideoInfo | None, *, temporal_scale: int, peak_threshold: float = 0.5
) -> np.ndarray:
    """Candidate proposals of one video from its (T, 5) TEM result.

    Start / end candidates are the first and last positions, local maxima and positions whose score
    exceeds ``peak_threshold`` times the maximum; positions map to times ``(i + 0.5) / T``. Every
    (start < end) pair becomes ``[tmin, tmax, tmin_score, tmax_score, score = product]``, sorted best
    first; with ``video`` (annotations) each row also gets its best tIoU and IoA (overlap over the
    proposal length) with the ground truth, else those columns are 0. Returns (M, 7).
    """
    start, end = tem_result[:, 1], tem_result[:, 2]
    gap = 1.0 / temporal_scale
    pos = gap / 2 + gap * np.arange(temporal_scale)
    s_idx = np.nonzero(_peaks(start, peak_threshold)[:temporal_scale])[0]
    e_idx = np.nonzero(_peaks(end, peak_threshold)[:temporal_scale])[0]
    # rows ordered by end, then start (MMAction2's loop order) before the stable best-first sort
    ee, ss = np.meshgrid(e_idx, s_idx, indexing="ij")
    keep = pos[ss] < pos[ee]
    ss, ee = ss[keep], ee[keep]
    props = np.stack([pos[ss], pos[ee], start[ss], end[ee]], axis=1).astype(np.float64)
    props = np.concatenate([props, (props[:, 2] * props[:, 3])[:, None]], axis=1)
    props = props[np.argsort(props[:, -1], kind="stable")[::-1]]
    if video is None or not video.segments:
        return np.concatenate([props, np.zeros((len(props), 2))], axis=1)
    span = video.corrected_second
    gmin = np.array([s.start / span for s in video.segments])
    gmax = np.array([s.end / span for s in video.segments])
    iou = temporal_iou_1d(props[:, :1], props[:, 1:2], gmin[None], gmax[None]).max(axis=1)
    ioa = temporal_iop(props[:, :1], props[:, 1:2], gmin[None], gmax[None]).max(axis=1)
    return np.concatenate([props, iou[:, None], ioa[:, None]], axis=1)


def _window_means(
    points: np.ndarray, t_points: np.ndarray, values: np.ndarray, n: int, interp: int
) -> np.ndarray:
    y = np.interp(points, t_points, values)  # (M, n * interp + 1)
    return np.stack([y[:, i * interp : (i + 1) * interp + 1].mean(axis=1) for i in range(n)], axis=1)


def bsp_features(
    tem_result: np.ndarray,
    proposals: np.ndarray,
    *,
    top_k: int = 1000,
    bsp_boundary_ratio: float = 0.2,
    num_sample_start: int = 8,
    num_sample_end: int = 8,
    num_sample_action: int = 16,
    num_sample_interp: int = 3,
) -> np.ndarray:
    """Boundary-sensitive features of the ``top_k`` first proposals: the TEM actionness curve (zero-padded
    by ``T / 4 + 10`` positions each side) sampled by linear interpolation inside the proposal
    (``num_sample_action`` values) and in windows of ``+-bsp_boundary_ratio * length`` around its start and
    end (``num_sample_start``/``num_sample_end``); each value is the mean of ``num_sample_interp + 1``
    interpolated points. Returns (M, action + start + end) in that order."""
    action = tem_result[:, 0].astype(np.float64)
    tmins, tmaxs = tem_result[:, 3], tem_result[:, 4]
    scale = len(tem_result)
    gap = float(tmaxs[0] - tmins[0])
    extend = int(scale / 4 + 10)
    values = np.concatenate([np.zeros(extend), action, np.zeros(extend)])
    t_points = np.concatenate(
        [
            -gap / 2 - (extend - 1 - np.arange(extend)) * gap,
            gap / 2 + np.arange(scale) * gap,
            gap / 2 + float(tmaxs[-1]) + np.arange(extend) * gap,
        ]
    )
    props = np.asarray(proposals)[:top_k]
    tmin, tmax = props[:, 0:1], props[:, 1:2]
    length = tmax - tmin

    def windowed(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
        step = (hi - lo) / (n - 1)
        sub = step / num_sample_interp
        points = lo - step / 2 + sub * np.arange(n * num_sample_interp + 1)
        return _window_means(points, t_points, values, n, num_sample_interp)

    starts = windowed(
        tmin - length * bsp_boundary_ratio, tmin + length * bsp_boundary_ratio, num_sample_start
    )
    ends = windowed(tmax - length * bsp_boundary_ratio, tmax + length * bsp_boundary_ratio, num_sample_end)
    inside = windowed(tmin, tmax, num_sample_action)
    return np.concatenate([inside, starts, ends], axis=1)


def _write_video_proposals(
    video: VideoInfo,
    tem: np.ndarray,
    out: Path,
    *,
    temporal_scale: int,
    top_k: int,
    settings: Mapping[str, Any],
) -> None:
    props = candidate_proposals(
        tem, video, temporal_scale=temporal_scale, peak_threshold=settings["peak_threshold"]
    )
    path = write_csv_table(out / "pgm_proposals" / f"{video.name}.csv", props, PROPOSAL_HEADER)
    # features are computed from the proposals as written (float32 after the CSV round trip), as MMAction2
    stored = read_csv_table(path, header=PROPOSAL_HEADER, video=video.name)
    features = bsp_features(tem, stored, top_k=top_k, **{k: settings[k] for k in _BSP_KEYS})
    np.save(out / "pgm_features" / f"{video.name}.npy", features)


def generate_proposals(
    tem_results: Mapping[str, np.ndarray],
    splits: Sequence[tuple[str, Sequence[VideoInfo], bool]],
    out: str | os.PathLike[str],
    *,
    temporal_scale: int,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the TEM results, the PGM proposals and BSP features of every video, and each split's videos.

    ``tem_results``: ``{video: (T, 5) TEM rows}``; ``splits``: ``(split name, videos, is_training)`` per
    role of the config (a training role keeps ``top_k_train`` proposals per video, the others
    ``top_k_test``; a video in several keeps the larger number; ``anno_<split name>.json`` lists the videos
    of every role with that split). ``settings`` update :data:`PGM_DEFAULTS`. Returns the output folder.
    """
    unknown = set(settings or {}) - set(PGM_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown PGM settings {sorted(unknown)}; known: {', '.join(PGM_DEFAULTS)}")
    settings = {**PGM_DEFAULTS, **dict(settings or {})}
    folder = Path(out)
    (folder / "pgm_features").mkdir(parents=True, exist_ok=True)
    top_k: dict[str, int] = {}
    videos: dict[str, VideoInfo] = {}
    listings: dict[str, dict[str, Any]] = {}
    for split, split_videos, training in splits:
        for video in split_videos:
            k = settings["top_k_train"] if training else settings["top_k_test"]
            top_k[video.name] = max(k, top_k.get(video.name, 0))
            videos[video.name] = video
            listings.setdefault(split, {})[video.name] = video.to_dict()
    for name, video in videos.items():
        if name not in tem_results:
            raise ValueError(f"no TEM result for video {name!r}; the TEM ran on another dataset")
        write_csv_table(folder / "tem_results" / f"{name}.csv", tem_results[name], TEM_HEADER)
        tem = read_csv_table(folder / "tem_results" / f"{name}.csv", header=TEM_HEADER, video=name)
        _write_video_proposals(
            video, tem, folder, temporal_scale=temporal_scale, top_k=top_k[name], settings=settings
        )
    for split, listing in listings.items():
        (folder / f"anno_{split}.json").write_text(json.dumps(listing, indent=1), encoding="utf-8")
    (folder / "pgm.json").write_text(
        json.dumps({"temporal_scale": temporal_scale, **settings}, indent=1), encoding="utf-8"
    )
    return folder
