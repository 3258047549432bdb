"""Temporal localization metrics with the semantics of the official ActivityNet evaluation code.

- :func:`average_recall_at_avg_proposals` — proposal task: AR@AN for AN = 1..100 (average recall over
  tIoU 0.5:0.05:0.95 when each video keeps a share of its proposals proportional to an average number
  AN per video) and the area under the AR-AN curve (``Evaluation/eval_proposal.py``).
- :func:`detection_average_precision` — detection task: interpolated AP per class and tIoU, its mean
  over classes (mAP) and over thresholds (average mAP) (``Evaluation/eval_detection.py``).
- :func:`thumos14_detection_map` — the same AP at tIoU 0.3..0.7 with THUMOS14's ``Ambiguous``
  segments left out.

Inputs are ``{video id: entries}`` mappings where ``entries`` is a list of
``{"segment": [t0, t1], "score": s, "label": name}`` dicts (the ActivityNet results format; ground truth
needs no score) or an array: (N, 2) ``[t0, t1]`` for ground truth, (N, 3) ``[t0, t1, score]`` for
proposals. tIoU is computed in float64 and a match needs ``tIoU >= threshold``.

Orders follow the official code: predictions are ranked by score with ``argsort()[::-1]``; ties are
resolved as that gives with a stable sort (among equal scores the later entry in input order ranks
first). The official code uses numpy's default, unstable sort, so with tied scores its result depends on
the platform (on AVX-512 machines even for short arrays); without ties the two agree to 1e-15, as
``core/tests/localization/test_activitynet_official.py`` checks against outputs of the official code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from action_core.localization.tiou import pairwise_temporal_iou

__all__ = [
    "ACTIVITYNET_TIOU_THRESHOLDS",
    "THUMOS14_TIOU_THRESHOLDS",
    "ActivityNetDetectionMetric",
    "ActivityNetProposalMetric",
    "ProposalResult",
    "DetectionResult",
    "Thumos14DetectionMetric",
    "average_recall_at_avg_proposals",
    "detection_average_precision",
    "interpolated_average_precision",
    "thumos14_detection_map",
]

#: ``np.linspace(0.5, 0.95, 10)``, exactly the array the official code uses.
ACTIVITYNET_TIOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
#: ``np.linspace(0.3, 0.7, 5)``.
THUMOS14_TIOU_THRESHOLDS = np.linspace(0.3, 0.7, 5)

_trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")  # noqa: B009 (NumPy < 2 has trapz only)


@dataclass(frozen=True)
class _Entries:
    segments: np.ndarray  # (N, 2) float64
    scores: np.ndarray  # (N,) float64 (zeros when absent)
    labels: list[Any]  # N labels (None when absent)


def _entries(value: Any, where: str, *, need_score: bool, need_label: bool) -> _Entries:
    if hasattr(value, "detach"):
        value = value.detach().cpu().double().numpy()
    if isinstance(value, np.ndarray):
        arr = np.asarray(value, dtype=np.float64)
        if arr.size == 0:
            arr = arr.reshape(0, 3 if need_score else 2)
        width = 3 if need_score else 2
        if arr.ndim != 2 or arr.shape[1] < width:
            raise ValueError(f"{where}: expected an (N, {width}) array, got shape {arr.shape}")
        if need_label:
            raise ValueError(
                f"{where}: detection needs labels; give a list of {{segment, score, label}} dicts"
            )
        segs, scores, labels = (
            arr[:, :2].copy(),
            (arr[:, 2].copy() if need_score else np.zeros(len(arr))),
            [None] * len(arr),
        )
    else:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise ValueError(
                f"{where}: expected a list of {{segment, score, label}} dicts, got {type(value).__name__}"
            )
        segs = np.zeros((len(value), 2), dtype=np.float64)
        scores = np.zeros(len(value), dtype=np.float64)
        labels = []
        for i, e in enumerate(value):
            try:
                segs[i] = [float(e["segment"][0]), float(e["segment"][1])]
                if need_score:
                    scores[i] = float(e["score"])
                labels.append(e["label"] if need_label else e.get("label"))
            except (KeyError, TypeError, ValueError, IndexError) as err:
                fields = "segment" + (", score" if need_score else "") + (", label" if need_label else "")
                raise ValueError(f"{where}[{i}]: needs fields {fields}; got {e!r}") from err
    bad = ~np.isfinite(segs).all(axis=1) | ~np.isfinite(scores)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}[{i}]: segment/score must be finite; got {segs[i].tolist()} / {scores[i]}")
    rev = segs[:, 0] > segs[:, 1]
    if rev.any():
        i = int(np.flatnonzero(rev)[0])
        raise ValueError(f"{where}[{i}]: field 'segment' has start {segs[i, 0]} > end {segs[i, 1]}")
    return _Entries(segs, scores, labels)


def _normalise(
    data: Mapping[str, Any], what: str, *, need_score: bool, need_label: bool
) -> dict[str, _Entries]:
    if not isinstance(data, Mapping):
        raise TypeError(f"{what} must be a mapping {{video id: entries}}; got {type(data).__name__}")
    return {
        str(vid): _entries(v, f"{what}[{vid!r}]", need_score=need_score, need_label=need_label)
        for vid, v in data.items()
    }


def _descending(scores: np.ndarray) -> np.ndarray:
    return np.argsort(scores, kind="stable")[::-1]


# --------------------------------------------------------------------------------------------------
# Proposal task: AR@AN and AUC


@dataclass(frozen=True)
class ProposalResult:
    """AR-AN curve of the ActivityNet proposal task.

    ``recall[i, j]``: recall at ``tiou_thresholds[i]`` with ``proposals_per_video[j]`` proposals per
    video on average; ``average_recall = recall.mean(axis=0)``; ``auc``: area under the AR-AN curve
    divided by the largest AN, in percent (what the official script prints).
    """

    recall: np.ndarray
    average_recall: np.ndarray
    proposals_per_video: np.ndarray
    auc: float
    tiou_thresholds: np.ndarray = field(default_factory=lambda: ACTIVITYNET_TIOU_THRESHOLDS.copy())

    def ar_at(self, an: int) -> float:
        """Average recall at the ``an``-th point of the curve (AN = ``an`` when max AN is 100)."""
        if not 1 <= an <= len(self.average_recall):
            raise ValueError(f"AN must be in 1..{len(self.average_recall)}; got {an}")
        return float(self.average_recall[an - 1])

    def as_dict(self, ans: Sequence[int] | None = None) -> dict[str, float]:
        """``{"AR@1": ..., ..., "AR@100": ..., "AUC": ...}`` (all 100 points unless ``ans`` given)."""
        ans = range(1, len(self.average_recall) + 1) if ans is None else ans
        out = {f"AR@{an}": self.ar_at(an) for an in ans}
        out["AUC"] = float(self.auc)
        return out


def average_recall_at_avg_proposals(
    ground_truth: Mapping[str, Any],
    proposals: Mapping[str, Any],
    *,
    max_avg_proposals: float | None = 100,
    tiou_thresholds: Sequence[float] | np.ndarray = ACTIVITYNET_TIOU_THRESHOLDS,
) -> ProposalResult:
    """AR@AN curve and AUC of ActivityNet's proposal task (official ``eval_proposal.py`` semantics).

    Evaluated videos are those with at least one ground-truth segment; proposals of other videos are
    not matched but still count in the total that sets the keep ratio
    ``max_avg_proposals * n_videos / n_proposals``. Each evaluated video keeps its
    ``int(n * ratio)`` best-scored proposals; the j-th curve point (j = 1..100) keeps the first
    ``int(n_kept * j / 100 * max_avg * n_videos / total_kept)`` of them, and a ground-truth segment
    counts as recalled when one of those has ``tIoU >= threshold``. A video without proposals recalls
    nothing. ``max_avg_proposals=None`` uses the actual average number of proposals.
    """
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    gt = _normalise(ground_truth, "ground_truth", need_score=False, need_label=False)
    props = _normalise(proposals, "proposals", need_score=True, need_label=False)
    videos = [vid for vid, e in gt.items() if len(e.segments) > 0]
    if not videos:
        raise ValueError("average_recall_at_avg_proposals: no video has a ground-truth segment")
    n_videos = len(videos)
    n_proposals = sum(len(e.segments) for e in props.values())
    if not max_avg_proposals:
        max_avg_proposals = float(n_proposals) / n_videos
    n_points = 100

    first_hits = []  # per video: (T, G) index of the first kept proposal matching each gt, or n_kept
    kept_counts = []  # per video: number of proposal columns (1 when the video has none, as officially)
    total_kept = 0
    ratio = max_avg_proposals * float(n_videos) / n_proposals if n_proposals else 0.0
    for vid in videos:
        gt_segs = gt[vid].segments
        entry = props.get(vid)
        if entry is None or len(entry.segments) == 0:
            first_hits.append(np.full((len(thresholds), len(gt_segs)), np.iinfo(np.int64).max))
            kept_counts.append(1)
            continue
        segs = entry.segments[_descending(entry.scores)]
        n_kept = min(int(segs.shape[0] * ratio), segs.shape[0])
        total_kept += n_kept
        tiou = pairwise_temporal_iou(gt_segs, segs[:n_kept])  # (G, n_kept)
        hit = tiou[None, :, :] >= thresholds[:, None, None]  # (T, G, n_kept)
        first = np.full((len(thresholds), len(gt_segs)), np.iinfo(np.int64).max)
        if n_kept:
            first = np.where(hit.any(axis=2), hit.argmax(axis=2), first)
        first_hits.append(first)
        kept_counts.append(n_kept)

    n_gt = sum(h.shape[1] for h in first_hits)
    if total_kept == 0:
        recall = np.zeros((len(thresholds), n_points))
        ppv = np.zeros(n_points)
        return ProposalResult(recall, recall.mean(axis=0), ppv, 0.0, thresholds)
    pcn = np.arange(1, n_points + 1) / 100.0 * (max_avg_proposals * float(n_videos) / total_kept)
    first_all = np.concatenate(first_hits, axis=1)  # (T, G_total)
    counts = np.concatenate(
        [
            np.repeat(np.minimum((k * pcn).astype(np.int64), k)[None], h.shape[1], axis=0)
            for k, h in zip(kept_counts, first_hits, strict=True)
        ]
    )  # (G_total, n_points)
    matches = (first_all[:, :, None] < counts[None]).sum(axis=1).astype(np.float64)  # (T, n_points)
    recall = matches / float(n_gt)
    average_recall = recall.mean(axis=0)
    ppv = pcn * (float(total_kept) / n_videos)
    auc = 100.0 * float(_trapezoid(average_recall, ppv)) / ppv[-1]
    return ProposalResult(recall, average_recall, ppv, auc, thresholds)


# --------------------------------------------------------------------------------------------------
# Detection task: interpolated AP


def interpolated_average_precision(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """VOC-2011-style interpolated AP of each row of (T, N) ``precision``/``recall`` curves.

    Precision is made monotone (running maximum from the right, with a 0 appended) and summed over
    the recall steps, as ActivityNet's ``interpolated_prec_rec``.
    """
    precision = np.atleast_2d(np.asarray(precision, dtype=np.float64))
    recall = np.atleast_2d(np.asarray(recall, dtype=np.float64))
    rows = precision.shape[0]
    mprec = np.hstack([np.zeros((rows, 1)), precision, np.zeros((rows, 1))])
    mrec = np.hstack([np.zeros((rows, 1)), recall, np.ones((rows, 1))])
    mprec = np.flip(np.maximum.accumulate(np.flip(mprec, axis=1), axis=1), axis=1)
    step = mrec[:, 1:] != mrec[:, :-1]
    return np.where(step, (mrec[:, 1:] - mrec[:, :-1]) * mprec[:, 1:], 0.0).sum(axis=1)


def _class_ap(
    gt_by_video: dict[str, np.ndarray],
    pred_videos: list[str],
    pred_segments: np.ndarray,
    pred_scores: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """AP at each threshold for one class; ``gt_by_video`` holds the class's gt segments per video."""
    n_thr = len(thresholds)
    n_pos = sum(len(s) for s in gt_by_video.values())
    if len(pred_scores) == 0 or n_pos == 0:
        return np.zeros(n_thr)
    order = _descending(pred_scores)
    rank_of = np.empty(len(order), dtype=np.int64)
    rank_of[order] = np.arange(len(order))
    tp = np.zeros((n_thr, len(order)))
    by_video: dict[str, list[int]] = {}
    for i in order:  # predictions of a video, in global rank order
        by_video.setdefault(pred_videos[i], []).append(int(i))
    lowest = thresholds.min()
    for vid, idx in by_video.items():
        gt_segs = gt_by_video.get(vid)
        if gt_segs is None or len(gt_segs) == 0:
            continue  # every prediction in a video without gt of this class is a false positive
        tiou = pairwise_temporal_iou(pred_segments[idx], gt_segs)  # (P_v, G_v)
        locked = np.zeros((n_thr, len(gt_segs)), dtype=bool)
        # Predictions whose every tIoU is below the lowest threshold cannot match anything.
        maybe = ~(tiou < lowest).all(axis=1)
        for p in np.flatnonzero(maybe):
            row = tiou[p]
            gt_order = np.argsort(row, kind="stable")[::-1]  # best tIoU first, as argsort()[::-1]
            ranked = row[gt_order]
            # The official loop stops at the first gt with tIoU < threshold (ranked is descending,
            # so that is a prefix test) and skips gt already locked at that threshold.
            free = ~(ranked[None, :] < thresholds[:, None]) & ~locked[:, gt_order]
            has = free.any(axis=1)
            rows = np.flatnonzero(has)
            chosen = gt_order[free[rows].argmax(axis=1)]
            locked[rows, chosen] = True
            tp[rows, rank_of[idx[p]]] = 1.0
    fp = 1.0 - tp
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(fp, axis=1)
    recall = tp_cum / float(n_pos)
    precision = tp_cum / (tp_cum + fp_cum)
    return interpolated_average_precision(precision, recall)


@dataclass(frozen=True)
class DetectionResult:
    """Detection AP: ``ap[i, c]`` at ``tiou_thresholds[i]`` for ``classes[c]``; ``mAP[i]`` over classes."""

    tiou_thresholds: np.ndarray
    classes: list[Any]
    ap: np.ndarray
    mAP: np.ndarray  # noqa: N815 - the established name
    average_mAP: float  # noqa: N815

    def as_dict(self) -> dict[str, float]:
        """``{"mAP@0.50": ..., ..., "average_mAP": ...}``."""
        out = {f"mAP@{t:.2f}": float(m) for t, m in zip(self.tiou_thresholds, self.mAP, strict=True)}
        out["average_mAP"] = float(self.average_mAP)
        return out


def detection_average_precision(
    ground_truth: Mapping[str, Any],
    predictions: Mapping[str, Any],
    *,
    tiou_thresholds: Sequence[float] | np.ndarray = ACTIVITYNET_TIOU_THRESHOLDS,
    unknown_labels: Literal["error", "ignore"] = "error",
) -> DetectionResult:
    """Interpolated AP per class and tIoU threshold (official ``eval_detection.py`` semantics).

    Classes are the labels that occur in ``ground_truth`` (in order of first appearance). Per class,
    predictions are taken in decreasing score; each one is matched, separately for every threshold, to
    the not-yet-matched ground-truth segment of the same video with the highest tIoU, provided
    ``tIoU >= threshold``; otherwise it is a false positive (so are all predictions in videos without
    ground truth of that class). A class without predictions has AP 0. A predicted label absent from
    the ground truth is an error (the official code fails too) unless ``unknown_labels="ignore"``.
    """
    thresholds = np.asarray(tiou_thresholds, dtype=np.float64).reshape(-1)
    gt = _normalise(ground_truth, "ground_truth", need_score=False, need_label=True)
    preds = _normalise(predictions, "predictions", need_score=True, need_label=True)

    classes: dict[Any, int] = {}
    gt_by_class: list[dict[str, list[np.ndarray]]] = []
    for vid, e in gt.items():
        for seg, label in zip(e.segments, e.labels, strict=True):
            if label not in classes:
                classes[label] = len(classes)
                gt_by_class.append({})
            gt_by_class[classes[label]].setdefault(vid, []).append(seg)
    if not classes:
        raise ValueError("detection_average_precision: the ground truth has no segment")

    pred_vid: list[list[str]] = [[] for _ in classes]
    pred_seg: list[list[np.ndarray]] = [[] for _ in classes]
    pred_score: list[list[float]] = [[] for _ in classes]
    for vid, e in preds.items():
        for i, (seg, score, label) in enumerate(zip(e.segments, e.scores, e.labels, strict=True)):
            c = classes.get(label)
            if c is None:
                if unknown_labels == "ignore":
                    continue
                raise ValueError(
                    f"predictions[{vid!r}][{i}]: label {label!r} does not occur in the ground truth; "
                    "check the label map or pass unknown_labels='ignore'"
                )
            pred_vid[c].append(vid)
            pred_seg[c].append(seg)
            pred_score[c].append(score)

    ap = np.zeros((len(thresholds), len(classes)))
    for c in range(len(classes)):
        gts = {vid: np.asarray(segs) for vid, segs in gt_by_class[c].items()}
        segs = np.asarray(pred_seg[c], dtype=np.float64).reshape(-1, 2)
        ap[:, c] = _class_ap(gts, pred_vid[c], segs, np.asarray(pred_score[c], dtype=np.float64), thresholds)
    m_ap = ap.mean(axis=1)
    return DetectionResult(thresholds, list(classes), ap, m_ap, float(m_ap.mean()))


def thumos14_detection_map(
    ground_truth: Mapping[str, Any],
    predictions: Mapping[str, Any],
    *,
    tiou_thresholds: Sequence[float] | np.ndarray = THUMOS14_TIOU_THRESHOLDS,
    ambiguous_label: str = "Ambiguous",
    unknown_labels: Literal["error", "ignore"] = "error",
) -> DetectionResult:
    """THUMOS14 detection mAP at tIoU 0.3..0.7: :func:`detection_average_precision` without the
    ``Ambiguous`` segments (dropped from the ground truth; predictions with that label dropped too)."""

    def drop(data: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for vid, entries in data.items():
            if isinstance(entries, np.ndarray) or hasattr(entries, "detach"):
                out[vid] = entries
            else:
                out[vid] = [
                    e for e in entries if not (isinstance(e, Mapping) and e.get("label") == ambiguous_label)
                ]
        return out

    return detection_average_precision(
        drop(ground_truth), drop(predictions), tiou_thresholds=tiou_thresholds, unknown_labels=unknown_labels
    )


# --------------------------------------------------------------------------------------------------
# Streaming forms for the engine: update(predictions, ground_truth) per batch of videos.


class _VideoAccumulator:
    def __init__(self) -> None:
        self._pred: dict[str, list[Any]] = {}
        self._gt: dict[str, list[Any]] = {}

    def update(self, predictions: Mapping[str, Any], ground_truth: Mapping[str, Any]) -> None:
        """Add videos: ``predictions`` and ``ground_truth`` are ``{video id: entries}``; a video seen
        again replaces its earlier entries (so a padded duplicate is counted once)."""
        for vid, e in predictions.items():
            self._pred[str(vid)] = e
        for vid, e in ground_truth.items():
            self._gt[str(vid)] = e

    def reset(self) -> None:
        """Forget every video added."""
        self._pred.clear()
        self._gt.clear()


class ActivityNetProposalMetric(_VideoAccumulator):
    """Proposal AR@AN and AUC; ``compute()`` gives ``AR@1, AR@5, AR@10, AR@50, AR@100, AUC`` by default."""

    def __init__(self, max_avg_proposals: float = 100, report: Sequence[int] = (1, 5, 10, 50, 100)) -> None:
        super().__init__()
        self.max_avg_proposals = max_avg_proposals
        self.report = tuple(report)

    def compute(self) -> dict[str, float]:
        """AR at the reported ANs and the AUC."""
        res = average_recall_at_avg_proposals(self._gt, self._pred, max_avg_proposals=self.max_avg_proposals)
        return res.as_dict(self.report)


class ActivityNetDetectionMetric(_VideoAccumulator):
    """ActivityNet detection ``mAP@0.50 .. mAP@0.95`` and ``average_mAP``."""

    tiou_thresholds = ACTIVITYNET_TIOU_THRESHOLDS

    def __init__(self, unknown_labels: Literal["error", "ignore"] = "error") -> None:
        super().__init__()
        self.unknown_labels = unknown_labels

    def compute(self) -> dict[str, float]:
        """mAP per threshold and its average."""
        return detection_average_precision(
            self._gt, self._pred, tiou_thresholds=self.tiou_thresholds, unknown_labels=self.unknown_labels
        ).as_dict()


class Thumos14DetectionMetric(ActivityNetDetectionMetric):
    """THUMOS14 detection ``mAP@0.30 .. mAP@0.70`` and ``average_mAP``, Ambiguous segments left out."""

    def compute(self) -> dict[str, float]:
        """mAP per threshold and its average."""
        return thumos14_detection_map(self._gt, self._pred, unknown_labels=self.unknown_labels).as_dict()
