"""MMAction2's ``TimeSformerHead`` (shared by TimeSformer and VideoMAE): dropout and a linear classifier on
the backbone's pooled (N, C) feature, which is core's ``I3DHead`` without spatial pooling.

It stays a registered head of its own (rather than ``i3d_head`` with ``spatial_type`` unset) so that a
composed description names the MMAction2 head and never depends on a ``None`` value surviving a config file.
"""

from __future__ import annotations

from torch import nn

from action_core.api import I3DHead

__all__ = ["timesformer_head"]


def timesformer_head(
    *,
    num_classes: int = 400,
    in_channels: int = 768,
    dropout_ratio: float = 0.0,
    init_std: float = 0.02,
    loss: nn.Module | None = None,
    label_smoothing: float = 0.0,
) -> I3DHead:
    """Classifier of a pooled transformer feature; parameters ``fc_cls.weight`` / ``fc_cls.bias`` as MMAction2.
    ``loss`` (a ``[model.head.loss]`` table in configs) defaults to cross-entropy with ``label_smoothing``."""
    return I3DHead(
        num_classes,
        in_channels,
        spatial_type=None,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        loss=loss,
        label_smoothing=label_smoothing,
    )
