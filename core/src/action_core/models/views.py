"""Several views (clips x crops) of one sample: folding them into the batch, averaging their predictions."""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["average_views", "fold_views"]


def average_views(logits: torch.Tensor, mode: Literal["score", "prob"] = "score") -> torch.Tensor:
    """Average (N, V, K) per-view logits into (N, K).

    ``"score"`` averages the raw logits; ``"prob"`` averages softmax probabilities (MMAction2's
    ``average_clips='prob'``), so the result is then a probability distribution.
    """
    if logits.ndim != 3:
        raise ValueError(f"average_views expects logits of shape (N, V, K), got {tuple(logits.shape)}")
    if mode == "score":
        return logits.mean(dim=1)
    if mode == "prob":
        return logits.softmax(dim=2).mean(dim=1)
    raise ValueError(f"unknown view averaging mode {mode!r}; use 'score' or 'prob'")


def fold_views(inputs: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """(N, V, ...) → (N*V, ...), returning also N and V."""
    if inputs.ndim < 3:
        raise ValueError(
            f"expected a batch of views shaped (N, V, ...), got {tuple(inputs.shape)}; dataset items must "
            "put their views first in 'inputs' (V, ...), V = clips x crops"
        )
    n, v = inputs.shape[:2]
    return inputs.flatten(0, 1), n, v
