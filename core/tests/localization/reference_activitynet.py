"""A deliberately plain, loop-based re-statement of the official ActivityNet evaluation algorithms.

Written for these tests from the published description of ``Evaluation/eval_proposal.py`` and
``Evaluation/eval_detection.py`` (activitynet/ActivityNet): one prediction, one ground-truth segment,
one threshold at a time, Python floats throughout. It shares no code with
``action_core.evaluation.localization`` so the two can check each other.

Ground truth: {video: [(start, end, label)]}; predictions: {video: [(start, end, score, label)]}.
Sorting "by score, descending" follows ``argsort()[::-1]`` with a stable sort: among equal values the
later item comes first; NaN (only from zero-length segments) sorts before every number.
"""

from __future__ import annotations

import math

import numpy as np


def segment_tiou(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """tIoU of two segments, in the official order of operations (NaN for a zero union)."""
    inter = min(a_end, b_end) - max(a_start, b_start)
    if inter < 0:
        inter = 0.0
    union = (b_end - b_start) + (a_end - a_start) - inter
    if union == 0:
        return math.nan
    return inter / union


def descending_positions(values: list[float]) -> list[int]:
    """Positions of ``values`` from largest to smallest, as ``np.argsort(values)[::-1]`` (stable)."""

    def key(i: int) -> tuple[int, float, int]:
        v = values[i]
        if math.isnan(v):
            return (0, 0.0, -i)
        return (1, -v, -i)

    return sorted(range(len(values)), key=key)


def reference_average_recall(ground_truth, proposals, max_avg_nr_proposals=100, tiou_thresholds=None):
    """Return (recall[T][100], average_recall[100], proposals_per_video[100], auc_percent)."""
    if tiou_thresholds is None:
        tiou_thresholds = list(np.linspace(0.5, 0.95, 10))
    video_list = [v for v in ground_truth if len(ground_truth[v]) > 0]
    number_of_videos = len(video_list)
    number_of_proposals = 0
    for v in proposals:
        number_of_proposals += len(proposals[v])
    if not max_avg_nr_proposals:
        max_avg_nr_proposals = float(number_of_proposals) / number_of_videos
    ratio = max_avg_nr_proposals * float(number_of_videos) / number_of_proposals

    per_video_tiou = []  # per video: list over gt of list over kept proposals
    per_video_columns = []
    total_kept = 0
    for v in video_list:
        gts = ground_truth[v]
        props = proposals.get(v, [])
        if len(props) == 0:
            per_video_tiou.append([[0.0] for _ in gts])
            per_video_columns.append(1)
            continue
        order = descending_positions([p[2] for p in props])
        ordered = [props[i] for i in order]
        keep = int(len(ordered) * ratio)
        if keep > len(ordered):
            keep = len(ordered)
        total_kept += keep
        ordered = ordered[:keep]
        table = []
        for g in gts:
            table.append([segment_tiou(p[0], p[1], g[0], g[1]) for p in ordered])
        per_video_tiou.append(table)
        per_video_columns.append(keep)

    fractions = np.arange(1, 101) / 100.0 * (max_avg_nr_proposals * float(number_of_videos) / total_kept)
    recall = []
    for thr in tiou_thresholds:
        row = []
        for j in range(100):
            matched = 0
            positives = 0
            for table, columns in zip(per_video_tiou, per_video_columns):
                n_use = int(columns * fractions[j])
                if n_use > columns:
                    n_use = columns
                for gt_row in table:
                    positives += 1
                    found = False
                    for c in range(n_use):
                        if gt_row[c] >= thr:
                            found = True
                            break
                    if found:
                        matched += 1
            row.append(matched / positives)
        recall.append(row)
    average = [sum(recall[t][j] for t in range(len(recall))) / len(recall) for j in range(100)]
    per_video = [float(f) * (float(total_kept) / number_of_videos) for f in fractions]
    area = 0.0
    for j in range(99):
        area += (per_video[j + 1] - per_video[j]) * (average[j + 1] + average[j]) / 2.0
    return recall, average, per_video, 100.0 * area / per_video[-1]


def reference_interpolated_ap(precision: list[float], recall: list[float]) -> float:
    """VOC 2011 interpolated AP, written out as a loop."""
    mprec = [0.0] + list(precision) + [0.0]
    mrec = [0.0] + list(recall) + [1.0]
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    ap = 0.0
    for i in range(1, len(mrec)):
        if mrec[i] != mrec[i - 1]:
            ap += (mrec[i] - mrec[i - 1]) * mprec[i]
    return ap


def reference_class_ap(gt_segments, predictions, tiou_thresholds):
    """AP per threshold for one class. gt_segments: [(video, start, end)]; predictions: [(video, start, end, score)]."""
    if len(predictions) == 0:
        return [0.0 for _ in tiou_thresholds]
    npos = float(len(gt_segments))
    order = descending_positions([p[3] for p in predictions])
    predictions = [predictions[i] for i in order]
    lock = [[-1 for _ in gt_segments] for _ in tiou_thresholds]
    tp = [[0.0] * len(predictions) for _ in tiou_thresholds]
    fp = [[0.0] * len(predictions) for _ in tiou_thresholds]
    for idx, (video, start, end, _score) in enumerate(predictions):
        candidates = [k for k, g in enumerate(gt_segments) if g[0] == video]
        if not candidates:
            for t in range(len(tiou_thresholds)):
                fp[t][idx] = 1.0
            continue
        tious = [segment_tiou(start, end, gt_segments[k][1], gt_segments[k][2]) for k in candidates]
        ranked = descending_positions(tious)
        for t, thr in enumerate(tiou_thresholds):
            for r in ranked:
                if tious[r] < thr:
                    fp[t][idx] = 1.0
                    break
                k = candidates[r]
                if lock[t][k] >= 0:
                    continue
                tp[t][idx] = 1.0
                lock[t][k] = idx
                break
            if fp[t][idx] == 0 and tp[t][idx] == 0:
                fp[t][idx] = 1.0
    result = []
    for t in range(len(tiou_thresholds)):
        tp_sum = 0.0
        fp_sum = 0.0
        precision, recall = [], []
        for idx in range(len(predictions)):
            tp_sum += tp[t][idx]
            fp_sum += fp[t][idx]
            recall.append(tp_sum / npos)
            precision.append(tp_sum / (tp_sum + fp_sum))
        result.append(reference_interpolated_ap(precision, recall))
    return result


def reference_detection(ground_truth, predictions, tiou_thresholds=None):
    """Return (classes, ap[T][C], mAP[T], average_mAP)."""
    if tiou_thresholds is None:
        tiou_thresholds = list(np.linspace(0.5, 0.95, 10))
    classes = []
    for video in ground_truth:
        for _s, _e, label in ground_truth[video]:
            if label not in classes:
                classes.append(label)
    ap = [[0.0] * len(classes) for _ in tiou_thresholds]
    for c, label in enumerate(classes):
        gts = [(v, s, e) for v in ground_truth for (s, e, lab) in ground_truth[v] if lab == label]
        preds = [(v, s, e, sc) for v in predictions for (s, e, sc, lab) in predictions[v] if lab == label]
        values = reference_class_ap(gts, preds, tiou_thresholds)
        for t in range(len(tiou_thresholds)):
            ap[t][c] = values[t]
    m_ap = [sum(row) / len(row) for row in ap]
    return classes, ap, m_ap, sum(m_ap) / len(m_ap)
