"""Proposal post-processing as MMAction2 does it for BMN and BSN: score fusion, Soft-NMS, scaling to seconds.

Proposals are rows ``[tmin, tmax, ..., score]`` with ``tmin``/``tmax`` normalised to [0, 1] of the
feature sequence and the fused confidence in the last column. The defaults below are MMAction2's BMN /
BSN test settings on ActivityNet (``soft_nms_alpha=0.4``, ``soft_nms_low_threshold=0.5``,
``soft_nms_high_threshold=0.9``, ``post_process_top_k=100``, ``feature_extraction_interval=16``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "bmn_proposals",
    "boundary_candidates",
    "bsn_proposals",
    "post_process_proposals",
    "soft_nms",
]


def _np(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: cannot convert {type(x).__name__} to a numpy array") from e


def _descending(scores: np.ndarray) -> np.ndarray:
    """Sort order high to low; ties: later row first (what ``argsort()[::-1]`` gives with a stable sort)."""
    return np.argsort(scores, kind="stable")[::-1]


def soft_nms(
    proposals: Any,
    *,
    alpha: float = 0.4,
    low_threshold: float = 0.5,
    high_threshold: float = 0.9,
    top_k: int = 100,
) -> np.ndarray:
    """Gaussian Soft-NMS over temporal proposals, MMAction2's variant for BSN/BMN.

    ``proposals``: (N, C>=3) rows ``[tmin, tmax, ..., score]``. Repeatedly the highest-scoring remaining
    proposal is kept; every other remaining proposal whose tIoU with it exceeds
    ``low_threshold + (high_threshold - low_threshold) * width`` (``width`` = the kept proposal's
    normalised length, so long proposals suppress less) has its score multiplied by
    ``exp(-tIoU**2 / alpha)``. Stops when nothing remains or ``top_k + 1`` proposals are kept (MMAction2
    keeps one more than ``top_k`` here; :func:`post_process_proposals` trims). Returns (M, 3)
    ``[tmin, tmax, decayed score]`` in the order kept.
    """
    props = _np(proposals, "proposals").astype(np.float64, copy=False)
    if props.ndim != 2 or props.shape[1] < 3:
        raise ValueError(f"proposals must be (N, >=3) rows [tmin, tmax, ..., score]; got shape {props.shape}")
    if alpha <= 0:
        raise ValueError(f"soft_nms alpha must be > 0; got {alpha}")
    props = props[_descending(props[:, -1])]
    start = props[:, 0].copy()
    end = props[:, 1].copy()
    score = props[:, -1].copy()
    alive = np.ones(len(score), dtype=bool)
    kept: list[tuple[float, float, float]] = []
    while alive.any() and len(kept) <= top_k:
        best = int(np.argmax(np.where(alive, score, -np.inf)))
        width = end[best] - start[best]
        # MMAction2's temporal_iou arithmetic (union = len - inter + end - start) for bit-equal decays.
        inter = np.maximum(np.minimum(end[best], end) - np.maximum(start[best], start), 0.0)
        union = width - inter + end - start
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = inter / union
        decay = np.exp(-np.square(iou) / alpha)
        suppress = alive & (iou > low_threshold + (high_threshold - low_threshold) * width)
        suppress[best] = False
        score = np.where(suppress, score * decay, score)
        kept.append((start[best], end[best], score[best]))
        alive[best] = False
    return np.asarray(kept, dtype=np.float64).reshape(-1, 3)


def post_process_proposals(
    proposals: Any,
    *,
    duration_second: float,
    duration_frame: int,
    feature_extraction_interval: int = 16,
    soft_nms_alpha: float = 0.4,
    soft_nms_low_threshold: float = 0.5,
    soft_nms_high_threshold: float = 0.9,
    top_k: int = 100,
) -> list[dict[str, Any]]:
    """Soft-NMS, then the ``top_k`` best proposals in seconds: ``[{"score", "segment": [t0, t1]}, ...]``.

    As MMAction2's ``post_processing``: Soft-NMS runs only when there is more than one proposal; the
    normalised times are clipped to [0, 1] and scaled by the duration covered by whole feature
    snippets, ``(duration_frame // interval * interval) / duration_frame * duration_second``.
    """
    props = _np(proposals, "proposals").astype(np.float64, copy=False)
    if props.ndim != 2 or props.shape[1] < 3:
        raise ValueError(f"proposals must be (N, >=3) rows [tmin, tmax, ..., score]; got shape {props.shape}")
    if duration_frame <= 0 or duration_second <= 0:
        raise ValueError(
            f"duration_frame and duration_second must be > 0; got {duration_frame} and {duration_second}"
        )
    if len(props) > 1:
        props = soft_nms(
            props,
            alpha=soft_nms_alpha,
            low_threshold=soft_nms_low_threshold,
            high_threshold=soft_nms_high_threshold,
            top_k=top_k,
        )
    props = props[_descending(props[:, -1])]
    covered = (
        float(duration_frame // feature_extraction_interval * feature_extraction_interval)
        / duration_frame
        * duration_second
    )
    out = []
    for row in props[: min(top_k, len(props))]:
        out.append(
            {
                "score": float(row[-1]),
                "segment": [float(max(0.0, row[0]) * covered), float(min(1.0, row[1]) * covered)],
            }
        )
    return out


def boundary_candidates(scores: Any, *, kind: str = "start") -> np.ndarray:
    """Boolean mask of candidate boundary positions, as BMN's inference picks them.

    An interior position is a candidate when it is a strict local maximum or its score exceeds half
    the sequence maximum. For ``kind="start"`` the first position is always a candidate and the last
    never; for ``kind="end"`` the reverse.
    """
    if kind not in ("start", "end"):
        raise ValueError(f"kind must be 'start' or 'end'; got {kind!r}")
    s = _np(scores, "scores").reshape(-1)
    mask = np.zeros(s.shape[0], dtype=bool)
    if s.size == 0:
        return mask
    if s.size > 2:
        mid = s[1:-1]
        mask[1:-1] = ((mid > s[2:]) & (mid > s[:-2])) | (mid > 0.5 * s.max())
    mask[0 if kind == "start" else -1] = True
    return mask


def bmn_proposals(start_scores: Any, end_scores: Any, confidence_map: Any) -> np.ndarray:
    """Candidate proposals with fused scores from BMN outputs for one video.

    ``start_scores``/``end_scores``: (T,); ``confidence_map``: (2, D, T) with channel 0 the regression
    and channel 1 the classification confidence, indexed ``[duration_index, start_index]``. Every
    (start, end = start + d + 1 < T) pair whose start and end are boundary candidates becomes a row
    ``[tmin, tmax, start_score, end_score, cls_score, reg_score, score]`` with ``tmin = start / T``,
    ``tmax = end / T`` and ``score = start_score * end_score * cls_score * reg_score``; rows are ordered
    by duration, then start, as in MMAction2.
    """
    start = _np(start_scores, "start_scores").reshape(-1)
    end = _np(end_scores, "end_scores").reshape(-1)
    cmap = _np(confidence_map, "confidence_map")
    tscale = start.shape[0]
    if end.shape[0] != tscale or cmap.ndim != 3 or cmap.shape[0] != 2 or cmap.shape[2] != tscale:
        raise ValueError(
            f"expected start/end scores (T,) and confidence_map (2, D, T) with the same T; got "
            f"{start.shape}, {end.shape}, {cmap.shape}"
        )
    start_ok = boundary_candidates(start, kind="start")
    end_ok = boundary_candidates(end, kind="end")
    durations = cmap.shape[1]
    dur_grid, start_grid = np.meshgrid(np.arange(durations), np.arange(tscale), indexing="ij")
    dur_idx, start_idx = dur_grid.reshape(-1), start_grid.reshape(-1)
    end_idx = start_idx + dur_idx + 1
    valid = end_idx < tscale
    dur_idx, start_idx, end_idx = dur_idx[valid], start_idx[valid], end_idx[valid]
    keep = start_ok[start_idx] & end_ok[end_idx]
    dur_idx, start_idx, end_idx = dur_idx[keep], start_idx[keep], end_idx[keep]
    s_score = start[start_idx]
    e_score = end[end_idx]
    cls = cmap[1][dur_idx, start_idx]
    reg = cmap[0][dur_idx, start_idx]
    score = s_score * e_score * cls * reg
    return np.stack(
        [
            start_idx / tscale,
            end_idx / tscale,
            s_score.astype(np.float64),
            e_score.astype(np.float64),
            cls.astype(np.float64),
            reg.astype(np.float64),
            score.astype(np.float64),
        ],
        axis=1,
    ).reshape(-1, 7)


def bsn_proposals(tmin: Any, tmax: Any, tmin_score: Any, tmax_score: Any, pem_score: Any) -> np.ndarray:
    """BSN proposals with fused scores: rows ``[tmin, tmax, tmin_score, tmax_score, pem_score, score]``.

    ``score = pem_score * tmin_score * tmax_score`` (the PEM confidence times both boundary
    probabilities from the TEM), as MMAction2's PEM inference does; all inputs are (N,).
    """
    cols = [
        _np(x, n).reshape(-1)
        for x, n in (
            (tmin, "tmin"),
            (tmax, "tmax"),
            (tmin_score, "tmin_score"),
            (tmax_score, "tmax_score"),
            (pem_score, "pem_score"),
        )
    ]
    n = cols[0].shape[0]
    if any(c.shape[0] != n for c in cols):
        raise ValueError(f"bsn_proposals inputs must have the same length; got {[c.shape[0] for c in cols]}")
    score = cols[4] * cols[2] * cols[3]
    return np.stack([c.astype(np.float64) for c in cols] + [score.astype(np.float64)], axis=1).reshape(-1, 6)
