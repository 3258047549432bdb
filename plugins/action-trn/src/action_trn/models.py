"""TRN (Zhou et al., 2018): a TSN ResNet on every segment and a temporal relation head.

Composition: action-tsn's :func:`~action_tsn.backbones.resnet2d` (with partial BatchNorm, as MMAction2's
config) + :func:`action_trn.heads.trn_head` in core's ``Recognizer2D``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_core.api import BCELossWithLogits, Recognizer2D, WeightsInfo, mmaction2_weights
from action_tsn.backbones import resnet2d
from action_tsn.models import load_weights

from .convert import from_mmaction
from .heads import trn_head
from .partial_bn import apply_partial_bn

__all__ = ["TRN_WEIGHTS", "trn_r50", "trn_resnet"]

#: MMAction2 1.x TRN checkpoints whose layout :func:`trn_r50` reproduces (metrics as published).
TRN_WEIGHTS: dict[str, WeightsInfo] = {
    w.name: w
    for w in (
        mmaction2_weights(
            "trn",
            "trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb",
            "20220815-e13db2e9",
            converter="trn_from_mmaction",
            dataset="sthv1",
            metrics={"top1": 33.65, "top5": 62.22},
            num_params=26_641_154,
            num_classes=174,
            num_segments=8,
        ),
        mmaction2_weights(
            "trn",
            "trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb",
            "20220815-e01617db",
            converter="trn_from_mmaction",
            dataset="sthv2",
            metrics={"top1": 51.20, "top5": 78.42},
            num_params=26_641_154,
            num_classes=174,
            num_segments=8,
        ),
    )
}


def trn_resnet(
    depth: int,
    *,
    num_classes: int = 174,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: str | Path | WeightsInfo | None = None,
    weights_backbone_only: bool = False,
    partial_bn: bool = True,
    multi_scale: bool = True,
    hidden_dim: int = 256,
    dropout_ratio: float = 0.8,
    init_std: float = 0.001,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
    norm_eval: bool = False,
    frozen_stages: int = -1,
    seed: int = 0,
    progress: bool = False,
) -> Recognizer2D:
    """TRN with a ResNet-``depth`` backbone (MMAction2's ``ResNet`` + ``TRNHead``).

    Input (N, num_segments, 3, H, W): the relation head is built for ``num_segments`` and takes no other
    count. ``partial_bn`` fixes every BatchNorm but the first (MMAction2's config does); ``multi_scale``
    chooses multi-scale relations (``TRNMultiScale``) over the single-scale one; ``seed`` fixes the tuples
    eval mode uses (see :mod:`action_trn.heads`). ``pretrained`` initialises the backbone from torchvision
    ImageNet weights (True = MMAction2's ``torchvision://resnet50``); ``weights`` loads a checkpoint
    (catalogue name or path; MMAction2 or ours). Defaults are MMAction2's TRN-R50 Something-Something config.
    """
    backbone = resnet2d(depth=depth, pretrained=pretrained, norm_eval=norm_eval, frozen_stages=frozen_stages)
    if partial_bn:
        apply_partial_bn(backbone)
    head = trn_head(
        num_classes=num_classes,
        in_channels=backbone.out_channels,
        num_segments=num_segments,
        multi_scale=multi_scale,
        hidden_dim=hidden_dim,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        loss=BCELossWithLogits() if multi_label else None,
        label_smoothing=label_smoothing,
        seed=seed,
    )
    model = Recognizer2D(backbone, head)
    model.num_segments = num_segments
    model.weights_info = None
    if weights is not None:
        model.weights_info = load_weights(
            model,
            weights,
            TRN_WEIGHTS,
            convert=from_mmaction,
            backbone_only=weights_backbone_only,
            progress=progress,
        )
    return model


def trn_r50(**kwargs: Any) -> Recognizer2D:
    """TRN on a ResNet-50 (keyword arguments as :func:`trn_resnet`)."""
    return trn_resnet(50, **kwargs)
