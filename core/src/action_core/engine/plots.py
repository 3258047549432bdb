"""PNG plots written at the end of a run: training curves and the confusion matrix (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_curves"]


def _pyplot():  # noqa: ANN202 - matplotlib is optional
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Mapping[str, Sequence[Sequence[float]]], path: str | Path) -> Path:
    """Plot ``{"name": [(x, y), ...]}`` series: losses on the left axes, everything else on the right.

    The trainer passes ``train/loss`` per logged step (x = epoch fraction), ``train/epoch_loss`` and
    ``val/<metric>`` per epoch.
    """
    plt = _pyplot()
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for name, points in history.items():
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        axis = loss_ax if "loss" in name else metric_ax
        axis.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=name)
    for axis, title in ((loss_ax, "loss"), (metric_ax, "validation metrics")):
        axis.set_xlabel("epoch")
        axis.set_title(title)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confusion_matrix(matrix: np.ndarray, classes: Sequence[str] | None, path: str | Path) -> Path:
    """Plot a (K, K) confusion matrix (rows = true class, columns = predicted), row-normalised."""
    plt = _pyplot()
    matrix = np.asarray(matrix, dtype=np.float64)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = min(4 + 0.35 * len(matrix), 30)
    fig, axis = plt.subplots(figsize=(size, size))
    image = axis.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=axis, fraction=0.046)
    if classes is not None and len(classes) == len(matrix) and len(matrix) <= 60:
        ticks = np.arange(len(matrix))
        axis.set_xticks(ticks, labels=list(classes), rotation=90, fontsize=7)
        axis.set_yticks(ticks, labels=list(classes), fontsize=7)
        if len(matrix) <= 20:
            for i in range(len(matrix)):
                for j in range(len(matrix)):
                    if matrix[i, j]:
                        axis.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title("confusion matrix (row-normalised)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
