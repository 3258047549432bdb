"""The TPN classification head.

MMAction2's ``TPNHead`` on the neck's clip map (N, C, T, H, W) is a global spatio-temporal average pool,
dropout and a linear classifier: the computation of core's :class:`~action_core.models.I3DHead`, which
is used as it is (same ``fc_cls`` parameter names). Its FCN test mode (a 1x1x1 conv copy of ``fc_cls``
after the pool) gives the same scores and is not reproduced.
"""

from __future__ import annotations

from typing import Any

from action_core.api import I3DHead

__all__ = ["tpn_head"]


def tpn_head(
    *,
    num_classes: int,
    in_channels: int = 2048,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    **kwargs: Any,
) -> I3DHead:
    """Keyword-only builder of the TPN head (defaults: MMAction2's TPN-TSM-R50 ``TPNHead``)."""
    return I3DHead(num_classes, in_channels, dropout_ratio=dropout_ratio, init_std=init_std, **kwargs)
