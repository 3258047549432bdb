"""MViT's classification head (MMAction2's ``MViTHead``): the class token (or the mean patch token), dropout,
linear classifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from action_core.api import ClsHead


class MViTHead(ClsHead):
    """Classifies the backbone's class token; with ``with_cls_token=False`` the average of the patch tokens.

    Input: the backbone's ``(patch_tokens (N, C, T, H, W), cls_token (N, C))``.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        with_cls_token: bool = True,
        dropout_ratio: float = 0.5,
        init_std: float = 0.02,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        self.with_cls_token = with_cls_token
        super().__init__(
            num_classes,
            in_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )

    def init_weights(self) -> None:
        """Truncated normal weights (std ``init_std``) and bias 0.02, as MMAction2's ``MViTHead``."""
        nn.init.trunc_normal_(self.fc_cls.weight, std=self.init_std)
        nn.init.constant_(self.fc_cls.bias, 0.02)

    def forward(self, x: Sequence[Any], num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes); ``num_segs`` is ignored."""
        patches, cls_token = x
        feats = cls_token if self.with_cls_token else patches.mean(dim=(2, 3, 4))
        if self.dropout is not None:
            feats = self.dropout(feats)
        return self.fc_cls(feats)
