"""MMAction2's ``TimeSformerHead`` (shared by TimeSformer and VideoMAE): dropout and a linear classifier on
the backbone's pooled (N, C) feature, which is core's ``I3DHead`` without spatial pooling."""

from __future__ import annotations

from action_core.api import I3DHead

__all__ = ["timesformer_head"]


def timesformer_head(
    *, num_classes: int = 400, in_channels: int = 768, dropout_ratio: float = 0.0, init_std: float = 0.02
) -> I3DHead:
    """Classifier of a pooled transformer feature; parameters ``fc_cls.weight`` / ``fc_cls.bias`` as MMAction2."""
    return I3DHead(
        num_classes, in_channels, spatial_type=None, dropout_ratio=dropout_ratio, init_std=init_std
    )
