"""Streaming metrics: accumulate ``update(scores, labels)`` batches, then ``compute()`` a dict of floats.

The engine builds a metric by its registered name, feeds it every batch (after gathering over ranks,
each sample exactly once) and logs ``compute()``. A plugin adds a metric by registering any class that
follows the :class:`Metric` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from action_core.evaluation.classification import (
    as_numpy,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    top_k_accuracy,
)

__all__ = ["AccMetric", "ConfusionMatrix", "MeanClassAccuracy", "Metric", "MultiLabelMAP"]


@runtime_checkable
class Metric(Protocol):
    """What the engine needs from a metric."""

    def update(self, scores: Any, labels: Any) -> None:
        """Add a batch: ``scores`` (N, K) and labels ((N,) class indices or (N, K) multi-hot)."""

    def compute(self) -> dict[str, float]:
        """Metric values over everything added since the last :meth:`reset`."""

    def reset(self) -> None:
        """Forget everything added."""


class _Accumulator:
    """Keeps the batches given to ``update`` and concatenates them on demand."""

    def __init__(self) -> None:
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []

    def update(self, scores: Any, labels: Any) -> None:
        """Add a batch of scores (N, K) and labels (N,) or (N, K)."""
        scores = as_numpy(scores, name="scores")
        labels = as_numpy(labels, name="labels")
        if scores.ndim == 1:
            scores = scores[None]
        if scores.ndim != 2:
            raise ValueError(f"{type(self).__name__}.update: scores must be (N, K); got shape {scores.shape}")
        if labels.shape[:1] != scores.shape[:1]:
            raise ValueError(
                f"{type(self).__name__}.update: {scores.shape[0]} score rows but labels of shape {labels.shape}"
            )
        if self._scores and scores.shape[1] != self._scores[0].shape[1]:
            raise ValueError(
                f"{type(self).__name__}.update: batch has {scores.shape[1]} classes, "
                f"earlier batches had {self._scores[0].shape[1]}"
            )
        self._scores.append(np.array(scores, copy=True))
        self._labels.append(np.array(labels, copy=True))

    def reset(self) -> None:
        """Forget everything added."""
        self._scores.clear()
        self._labels.clear()

    @property
    def num_samples(self) -> int:
        """Number of samples added since the last reset."""
        return sum(s.shape[0] for s in self._scores)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._scores:
            raise ValueError(f"{type(self).__name__}.compute called before any update")
        return np.concatenate(self._scores), np.concatenate(self._labels)


class AccMetric(_Accumulator):
    """Top-k accuracy; ``compute()`` gives ``{"top1": ..., "top5": ...}`` for ``topk=(1, 5)``.

    A k larger than the number of classes counts every sample as a hit, as MMAction2 does.
    """

    def __init__(self, topk: Sequence[int] = (1, 5)) -> None:
        super().__init__()
        self.topk = tuple(int(k) for k in topk)
        if not self.topk or any(k < 1 for k in self.topk):
            raise ValueError(f"AccMetric: topk must be a non-empty tuple of positive integers; got {topk!r}")

    def compute(self) -> dict[str, float]:
        """Top-k accuracies keyed ``top<k>``."""
        scores, labels = self._arrays()
        values = top_k_accuracy(scores, labels, self.topk)
        return {f"top{k}": v for k, v in zip(self.topk, values, strict=True)}


class MeanClassAccuracy(_Accumulator):
    """Mean class accuracy (MMAction2 semantics by default); key ``mean_class_accuracy``."""

    def __init__(self, classes: Literal["union", "ground_truth"] = "union") -> None:
        super().__init__()
        self.classes = classes

    def compute(self) -> dict[str, float]:
        """``{"mean_class_accuracy": value}``."""
        scores, labels = self._arrays()
        return {"mean_class_accuracy": mean_class_accuracy(scores, labels, classes=self.classes)}


class MultiLabelMAP(_Accumulator):
    """Multi-label mean average precision; key ``mAP``. ``mode`` as in :func:`mean_average_precision`."""

    def __init__(self, mode: Literal["mmit", "per_class"] = "mmit") -> None:
        super().__init__()
        if mode not in ("mmit", "per_class"):
            raise ValueError(f"MultiLabelMAP: mode must be 'mmit' or 'per_class'; got {mode!r}")
        self.mode = mode

    def compute(self) -> dict[str, float]:
        """``{"mAP": value}``."""
        scores, labels = self._arrays()
        if labels.shape != scores.shape:
            raise ValueError(
                f"MultiLabelMAP needs multi-hot labels shaped like the scores {scores.shape}; "
                f"got labels of shape {labels.shape}"
            )
        return {"mAP": mean_average_precision(scores, labels, mode=self.mode)}


class ConfusionMatrix(_Accumulator):
    """Confusion matrix of argmax predictions (rows: true class, columns: predicted class).

    ``compute()`` returns the scalar summary ``{"accuracy": trace / total}``; :meth:`matrix` returns the
    (K, K) array for plots and reports.
    """

    def __init__(self, num_classes: int | None = None) -> None:
        super().__init__()
        self.num_classes = num_classes

    def matrix(self, normalize: Literal["true", "pred", "all"] | None = None) -> np.ndarray:
        """The (K, K) confusion matrix, counts or normalised (see :func:`confusion_matrix`)."""
        scores, labels = self._arrays()
        return confusion_matrix(
            scores, labels, num_classes=self.num_classes or scores.shape[1], normalize=normalize
        )

    def compute(self) -> dict[str, float]:
        """``{"accuracy": trace / total}`` of the matrix."""
        cm = self.matrix()
        return {"accuracy": float(np.trace(cm) / cm.sum())}
