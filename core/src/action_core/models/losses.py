"""Classification losses used by recognizer heads.

Both follow MMAction2's semantics: ``loss_weight`` scales the result, ``class_weight`` weights classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BCELossWithLogits", "CrossEntropyLoss"]


def _class_weight(module: nn.Module) -> torch.Tensor | None:
    weight = getattr(module, "class_weight", None)
    return weight if isinstance(weight, torch.Tensor) else None


def _class_weight_buffer(module: nn.Module, class_weight: Sequence[float] | None) -> None:
    weight = None if class_weight is None else torch.as_tensor(list(class_weight), dtype=torch.float32)
    module.register_buffer("class_weight", weight, persistent=False)


class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy for single-label classification.

    ``target`` is either class indices (int64, shape (N,)) or a soft distribution (float, shape (N, K)).
    ``label_smoothing`` mixes the one-hot target with the uniform distribution,
    ``(1 - eps) * onehot + eps / K``, exactly MMAction2's ``label_smooth_eps``.
    """

    def __init__(
        self,
        *,
        label_smoothing: float = 0.0,
        loss_weight: float = 1.0,
        class_weight: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.loss_weight = float(loss_weight)
        _class_weight_buffer(self, class_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch, times ``loss_weight``."""
        if target.dtype.is_floating_point and target.shape != logits.shape:
            raise ValueError(
                f"soft targets must have the logits' shape {tuple(logits.shape)}, got {tuple(target.shape)}"
            )
        loss = F.cross_entropy(
            logits, target, weight=_class_weight(self), label_smoothing=self.label_smoothing
        )
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}, loss_weight={self.loss_weight}"


class BCELossWithLogits(nn.Module):
    """Sigmoid binary cross-entropy for multi-label classification; ``target`` is multi-hot float (N, K)."""

    def __init__(self, *, loss_weight: float = 1.0, class_weight: Sequence[float] | None = None) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)
        _class_weight_buffer(self, class_weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean of the element-wise loss, times ``loss_weight``."""
        if target.shape != logits.shape:
            raise ValueError(
                f"multi-label targets must have the logits' shape {tuple(logits.shape)}, "
                f"got {tuple(target.shape)}; pass multi-hot float labels (dataset multi_label=True)"
            )
        loss = F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype), weight=_class_weight(self))
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return f"loss_weight={self.loss_weight}"
