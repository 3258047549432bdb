"""Classification heads shared by recognizer families.

Parameter names follow MMAction2 (``fc_cls``) so checkpoints map one to one. Every head takes backbone
features and returns logits (N, num_classes); :meth:`ClsHead.loss` applies the head's loss.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from .losses import CrossEntropyLoss

__all__ = ["ClsHead", "I3DHead", "TSMHead", "TSNHead", "i3d_head", "tsm_head", "tsn_head"]

SpatialPool = Literal["avg"] | None


class ClsHead(nn.Module):
    """Base of the classification heads: dropout, a linear classifier ``fc_cls`` and a loss.

    ``loss`` defaults to :class:`CrossEntropyLoss` (with ``label_smoothing`` when given); pass
    :class:`~action_core.models.losses.BCELossWithLogits` for multi-label data.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        dropout_ratio: float,
        init_std: float,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
        if not 0.0 <= dropout_ratio < 1.0:
            raise ValueError(f"dropout_ratio must be in [0, 1), got {dropout_ratio!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.loss_fn = loss if loss is not None else CrossEntropyLoss(label_smoothing=label_smoothing)
        self.init_weights()

    def init_weights(self) -> None:
        """Normal(0, init_std) classifier weights and zero bias, as MMAction2 initialises heads."""
        nn.init.normal_(self.fc_cls.weight, mean=0.0, std=self.init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The head's loss for ``logits`` (N, K) and ``target`` (indices (N,) or (N, K) float)."""
        return self.loss_fn(logits, target)


class TSNHead(ClsHead):
    """TSN head: spatial average pool, average consensus over segments, dropout, linear classifier.

    Input: (N * num_segs, C, H, W) frame features (or (N * num_segs, C) when ``spatial_type`` is None).
    The segment consensus averages features before the classifier, as MMAction2's ``TSNHead``.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        spatial_type: SpatialPool = "avg",
        dropout_ratio: float = 0.4,
        init_std: float = 0.01,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        if spatial_type not in ("avg", None):
            raise ValueError(f"spatial_type must be 'avg' or None, got {spatial_type!r}")
        self.spatial_type = spatial_type
        super().__init__(
            num_classes,
            in_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )
        self.avg_pool = nn.AdaptiveAvgPool2d(1) if spatial_type == "avg" else None

    def forward(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        """Logits (N, num_classes) from (N * num_segs, C, ...) features."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        x = x.reshape(-1, num_segs, *x.shape[1:]).mean(dim=1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x.flatten(1))


class TSMHead(ClsHead):
    """TSM head: spatial average pool, dropout, per-segment classifier, then average consensus of the scores.

    Matches MMAction2's ``TSMHead``: the classifier runs on every segment and the logits are averaged.
    With ``is_shift`` and ``temporal_pool`` the backbone halved the segments, so the consensus spans
    ``num_segments // 2`` of them.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        num_segments: int = 8,
        spatial_type: SpatialPool = "avg",
        dropout_ratio: float = 0.8,
        init_std: float = 0.001,
        is_shift: bool = True,
        temporal_pool: bool = False,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        if spatial_type not in ("avg", None):
            raise ValueError(f"spatial_type must be 'avg' or None, got {spatial_type!r}")
        self.spatial_type = spatial_type
        super().__init__(
            num_classes,
            in_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.temporal_pool = temporal_pool
        self.avg_pool = nn.AdaptiveAvgPool2d(1) if spatial_type == "avg" else None

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes) from (N * segments, C, ...) features.

        ``num_segs`` is the number of input segments (defaults to ``num_segments``).
        """
        segs = self.num_segments if num_segs is None else num_segs
        if self.is_shift and self.temporal_pool:
            segs //= 2
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        x = x.flatten(1)
        if self.dropout is not None:
            x = self.dropout(x)
        scores = self.fc_cls(x)
        return scores.reshape(-1, segs, scores.shape[-1]).mean(dim=1)


class I3DHead(ClsHead):
    """I3D-style head: spatiotemporal average pool, dropout, linear classifier (MMAction2's ``I3DHead``).

    Input: (N, C, T, H, W) clip features (or already pooled (N, C) when ``spatial_type`` is None).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        spatial_type: SpatialPool = "avg",
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        if spatial_type not in ("avg", None):
            raise ValueError(f"spatial_type must be 'avg' or None, got {spatial_type!r}")
        self.spatial_type = spatial_type
        super().__init__(
            num_classes,
            in_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )
        self.avg_pool = nn.AdaptiveAvgPool3d(1) if spatial_type == "avg" else None

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes) from (N, C, T, H, W) features; ``num_segs`` is ignored."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x.flatten(1))


def tsn_head(*, num_classes: int, in_channels: int, **kwargs: Any) -> TSNHead:
    """Keyword-only builder of :class:`TSNHead` (the registry form)."""
    return TSNHead(num_classes, in_channels, **kwargs)


def tsm_head(*, num_classes: int, in_channels: int, **kwargs: Any) -> TSMHead:
    """Keyword-only builder of :class:`TSMHead` (the registry form)."""
    return TSMHead(num_classes, in_channels, **kwargs)


def i3d_head(*, num_classes: int, in_channels: int, **kwargs: Any) -> I3DHead:
    """Keyword-only builder of :class:`I3DHead` (the registry form)."""
    return I3DHead(num_classes, in_channels, **kwargs)
