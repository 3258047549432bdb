"""Classification metrics: top-k accuracy, mean class accuracy, confusion matrix, multi-label mAP.

Inputs are numpy arrays or torch tensors (anything with ``.detach()``); outputs are Python floats or
numpy arrays. Sorting ties are broken the way scikit-learn breaks them (a stable ascending sort read
backwards, so among equal scores the higher class index ranks first), which is also what MMAction2's
``np.argsort`` does for small class counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

__all__ = [
    "as_numpy",
    "average_precision",
    "confusion_matrix",
    "mean_average_precision",
    "mean_class_accuracy",
    "top_k_accuracy",
]


def as_numpy(x: Any, *, name: str = "input") -> np.ndarray:
    """Convert a numpy array, torch tensor or nested sequence to a numpy array (no copy when possible)."""
    if hasattr(x, "detach"):
        x = x.detach()
        if x.dtype.is_floating_point and x.dtype.itemsize < 4:
            x = x.float()
        x = x.cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: cannot convert {type(x).__name__} to a numpy array") from e


def _check_scores_labels(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    scores = as_numpy(scores, name="scores")
    labels = as_numpy(labels, name="labels")
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (N, num_classes), got shape {scores.shape}")
    if labels.ndim != 1 or labels.shape[0] != scores.shape[0]:
        raise ValueError(
            f"labels must have shape (N,) with N = {scores.shape[0]} (the number of score rows), "
            f"got shape {labels.shape}"
        )
    if (
        labels.size
        and not np.issubdtype(labels.dtype, np.integer)
        and not np.all(np.equal(np.mod(labels, 1), 0))
    ):
        raise ValueError("labels must be integer class indices; got non-integer values")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(
            f"labels must lie in [0, {scores.shape[1] - 1}] (scores have {scores.shape[1]} classes); "
            f"got values in [{labels.min()}, {labels.max()}]. Check for 1-based labels."
        )
    return scores, labels


def _descending_order(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Indices sorting ``scores`` high to low; ties: the later index first (reverse of a stable sort)."""
    return np.flip(np.argsort(scores, axis=axis, kind="stable"), axis=axis)


def top_k_accuracy(scores: Any, labels: Any, topk: Sequence[int] = (1,)) -> list[float]:
    """Fraction of samples whose label is among the ``k`` highest scores, for each ``k`` in ``topk``.

    ``scores``: (N, K); ``labels``: (N,) integer class indices. Equals scikit-learn's
    ``top_k_accuracy_score`` (including its tie handling) and MMAction2's ``top_k_accuracy``.
    """
    scores, labels = _check_scores_labels(scores, labels)
    if scores.shape[0] == 0:
        raise ValueError("top_k_accuracy needs at least one sample; got 0 rows")
    order = _descending_order(scores, axis=1)
    results = []
    for k in topk:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"topk entries must be positive integers; got {k!r}")
        hit = (order[:, : int(k)] == labels[:, None]).any(axis=1)
        results.append(float(hit.mean()))
    return results


def confusion_matrix(
    pred: Any,
    labels: Any,
    *,
    num_classes: int | None = None,
    normalize: Literal["true", "pred", "all"] | None = None,
) -> np.ndarray:
    """Confusion matrix ``C[true, pred]`` of shape (K, K), K = ``num_classes`` or ``max(label) + 1``.

    ``pred`` is either (N,) predicted class indices or (N, K) scores (argmax taken). ``normalize``
    divides by row sums (``"true"``), column sums (``"pred"``) or the total (``"all"``); empty rows or
    columns give zeros. Unlike MMAction2's ``confusion_matrix``, which keeps only classes that occur,
    every class index 0..K-1 has a row and a column (scikit-learn with ``labels=range(K)``).
    """
    pred = as_numpy(pred, name="pred")
    labels = as_numpy(labels, name="labels").astype(np.int64).reshape(-1)
    if pred.ndim == 2:
        if num_classes is None:
            num_classes = pred.shape[1]
        pred = pred.argmax(axis=1)
    pred = pred.astype(np.int64).reshape(-1)
    if pred.shape != labels.shape:
        raise ValueError(
            f"pred and labels must have the same length; got {pred.shape[0]} and {labels.shape[0]}"
        )
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), labels.max(initial=-1))) + 1
    for name, arr in (("pred", pred), ("labels", labels)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise ValueError(
                f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}; "
                f"got values in [{arr.min()}, {arr.max()}]"
            )
    cm = np.bincount(labels * num_classes + pred, minlength=num_classes * num_classes)
    cm = cm.reshape(num_classes, num_classes)
    if normalize is None:
        return cm
    if normalize not in ("true", "pred", "all"):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None; got {normalize!r}")
    cm = cm.astype(np.float64)
    if normalize == "true":
        denom = cm.sum(axis=1, keepdims=True)
    elif normalize == "pred":
        denom = cm.sum(axis=0, keepdims=True)
    else:
        denom = np.array(cm.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(cm / denom)


def mean_class_accuracy(
    scores: Any, labels: Any, *, classes: Literal["union", "ground_truth"] = "union"
) -> float:
    """Mean over classes of per-class accuracy (recall) of the argmax prediction.

    ``classes="union"`` (default) is MMAction2's ``mean_class_accuracy``: the mean runs over every class
    that occurs in the labels *or* the predictions, and a class that is only ever predicted counts as 0.
    ``classes="ground_truth"`` averages over classes present in the labels only, which is
    scikit-learn's ``balanced_accuracy_score``. Both agree whenever every predicted class also occurs in
    the labels.
    """
    scores, labels = _check_scores_labels(scores, labels)
    if labels.size == 0:
        raise ValueError("mean_class_accuracy needs at least one sample; got 0 rows")
    pred = scores.argmax(axis=1)
    cm = confusion_matrix(pred, labels, num_classes=scores.shape[1])
    support = cm.sum(axis=1)
    hits = np.diag(cm)
    if classes == "union":
        present = (support > 0) | (cm.sum(axis=0) > 0)
    elif classes == "ground_truth":
        present = support > 0
    else:
        raise ValueError(f"classes must be 'union' or 'ground_truth'; got {classes!r}")
    per_class = np.where(support > 0, hits / np.maximum(support, 1), 0.0)
    return float(per_class[present].mean())


def average_precision(scores: Any, targets: Any) -> float:
    """Non-interpolated average precision of one ranking: sum over recall steps of precision.

    Equals scikit-learn's ``average_precision_score`` for a binary problem and MMAction2's
    ``binary_precision_recall_curve``-based AP: tied scores form one threshold. Returns NaN when
    ``targets`` has no positive.
    """
    scores = as_numpy(scores, name="scores").astype(np.float64).reshape(-1)
    targets = as_numpy(targets, name="targets").reshape(-1) == 1
    if scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must have the same length; got {scores.size} and {targets.size}"
        )
    return float(_ap_rows(scores[None], targets[None])[0])


def _ap_rows(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """AP of each row of (R, M) ``scores`` against boolean (R, M) ``targets``; NaN for rows without a positive."""
    n_rows, n = scores.shape
    if n == 0:
        return np.full(n_rows, np.nan)
    order = _descending_order(scores, axis=1)
    s = np.take_along_axis(scores, order, axis=1)
    t = np.take_along_axis(targets, order, axis=1)
    total = t.sum(axis=1, dtype=np.float64)
    precision = np.cumsum(t, axis=1, dtype=np.float64) / np.arange(1, n + 1, dtype=np.float64)
    # Tied scores form one threshold: every positive in a run of ties is credited with the precision
    # at the end of that run (the next position whose successor has a different score, or the last).
    is_end = np.ones((n_rows, n), dtype=bool)
    is_end[:, :-1] = s[:, 1:] != s[:, :-1]
    end_index = np.where(is_end, np.arange(n), n - 1)
    end_index = np.flip(np.minimum.accumulate(np.flip(end_index, axis=1), axis=1), axis=1)
    gained = np.where(t, np.take_along_axis(precision, end_index, axis=1), 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ap = np.where(total > 0, gained / np.maximum(total, 1), np.nan)
    return ap


def mean_average_precision(scores: Any, labels: Any, *, mode: Literal["mmit", "per_class"] = "mmit") -> float:
    """Mean average precision for multi-label classification.

    ``scores``: (N, K); ``labels``: (N, K) multi-hot (1 = positive).

    - ``mode="mmit"`` (default, used for Multi-Moments in Time): AP of each *sample*'s ranking of the K
      classes, averaged over samples — MMAction2's ``mmit_mean_average_precision`` and scikit-learn's
      ``average_precision_score(labels, scores, average="samples")``. Samples without any positive
      label are left out (MMAction2 would return NaN, scikit-learn counts them as 0).
    - ``mode="per_class"``: AP of each *class*'s ranking of the N samples, averaged over classes —
      MMAction2's ``mean_average_precision`` and scikit-learn's ``average="macro"``. Classes without
      any positive sample are left out, as MMAction2 does (scikit-learn counts them as 0).
    """
    scores = as_numpy(scores, name="scores").astype(np.float64)
    labels = as_numpy(labels, name="labels")
    if scores.ndim != 2 or labels.shape != scores.shape:
        raise ValueError(
            f"scores and labels must both have shape (N, num_classes); got {scores.shape} and {labels.shape}"
        )
    targets = labels == 1
    if mode == "mmit":
        ap = _ap_rows(scores, targets)
    elif mode == "per_class":
        ap = _ap_rows(scores.T, targets.T)
    else:
        raise ValueError(f"mode must be 'mmit' or 'per_class'; got {mode!r}")
    ap = ap[~np.isnan(ap)]
    if ap.size == 0:
        raise ValueError("mean_average_precision: no sample/class has a positive label, AP is undefined")
    return float(ap.mean())
