"""Recognizers: a backbone, an optional neck and a classification head.

A recognizer's ``forward`` takes ONE view per sample and returns logits (N, num_classes). The engine drives
it through the step protocol (:mod:`action_core.models.steps`): ``training_step`` folds the views (clips x
crops) into the batch, repeats the targets per view and applies the head's loss; ``predict_step`` gives the
per-view logits (N, V, K) that evaluation averages with :func:`average_views`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn

from action_core.models.steps import recognition_predict_step, recognition_training_step

__all__ = ["Recognizer2D", "Recognizer3D", "recognizer2d", "recognizer3d"]


class _Recognizer(nn.Module):
    input_format: str = ""

    def __init__(self, backbone: nn.Module, head: nn.Module, *, neck: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head

    @property
    def num_classes(self) -> int:
        """Number of classes the head predicts."""
        return int(cast(int, self.head.num_classes))

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of ``logits`` against ``target`` with the head's loss function, plus the neck's auxiliary
        loss of the last training forward when the neck has one (``neck.aux_loss(target)``, as TPN's)."""
        loss: torch.Tensor = cast(Any, self.head).loss(logits, target)
        aux = getattr(self.neck, "aux_loss", None)
        if callable(aux) and self.training:
            extra = aux(target)
            if extra is not None:
                loss = loss + extra
        return loss

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """``{"loss"}`` of a batch of views (N, V, ...): views folded, targets repeated, :meth:`loss`."""
        return recognition_training_step(self, batch)

    def predict_step(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Per-view logits (N, V, num_classes) of a batch of views (N, V, ...)."""
        return recognition_predict_step(self, batch)

    def _check_input(self, x: torch.Tensor, layout: str) -> None:
        if x.ndim != 5:
            raise ValueError(
                f"{type(self).__name__} expects one view per sample as a 5-D {layout} tensor, "
                f"got shape {tuple(x.shape)}; fold extra views into the batch dimension first"
            )


class Recognizer2D(_Recognizer):
    """Frame-level 2D recognizer (TSN, TSM): segments are folded into the batch, the head does the consensus.

    Input (N, T, C, H, W) with T = number of segments; the backbone sees (N * T, C, H, W) and the head
    receives ``num_segs=T``.
    """

    input_format = "NTCHW"

    def extract_feat(self, x: torch.Tensor) -> Any:
        """Backbone (and neck) features of (N, T, C, H, W) input, segments folded into the batch."""
        self._check_input(x, self.input_format)
        feats = self.backbone(x.flatten(0, 1))
        if self.neck is not None:
            feats = self.neck(feats)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes) for (N, T, C, H, W) input."""
        return self.head(self.extract_feat(x), num_segs=x.shape[1])


class Recognizer3D(_Recognizer):
    """Clip-level 3D recognizer (I3D, SlowOnly, SlowFast, R(2+1)D). Input (N, C, T, H, W)."""

    input_format = "NCTHW"

    def extract_feat(self, x: torch.Tensor) -> Any:
        """Backbone (and neck) features of (N, C, T, H, W) input."""
        self._check_input(x, self.input_format)
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes) for (N, C, T, H, W) input."""
        return self.head(self.extract_feat(x))


def recognizer2d(
    *, backbone: nn.Module, head: nn.Module, neck: nn.Module | None = None, num_segments: int | None = None
) -> Recognizer2D:
    """A :class:`Recognizer2D` of built parts; ``num_segments`` is recorded for tools (FLOPs, export)."""
    model = Recognizer2D(backbone, head, neck=neck)
    if num_segments is not None:
        model.num_segments = int(num_segments)  # type: ignore[assignment]  # a plain attribute on a Module
    return model


def recognizer3d(
    *, backbone: nn.Module, head: nn.Module, neck: nn.Module | None = None, clip_len: int | None = None
) -> Recognizer3D:
    """A :class:`Recognizer3D` of built parts; ``clip_len`` is recorded for tools (FLOPs, export)."""
    model = Recognizer3D(backbone, head, neck=neck)
    if clip_len is not None:
        model.clip_len = int(clip_len)  # type: ignore[assignment]
    return model
