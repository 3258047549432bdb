"""TRN (Zhou et al., 2018): a TSN ResNet on every segment and a temporal relation head.

Composition: action-tsn's ``resnet2d`` backbone (with partial BatchNorm, as MMAction2's config) + this
plugin's ``trn_head`` in core's ``Recognizer2D``. The builder is ``compose_model`` of :func:`trn_r50_parts`
(registered as the model's ``expand``), so ``action-run config show PRESET --expand`` prints exactly what
the builder builds.
"""

from __future__ import annotations

from typing import Any

from action_core.api import Recognizer2D, WeightsInfo, compose_model, mmaction2_weights
from action_tsn.backbones import resnet_channels
from action_tsn.models import Weights, classification_loss, with_weights

__all__ = ["TRN_WEIGHTS", "trn_r50", "trn_r50_parts", "trn_resnet", "trn_resnet_parts"]

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


def trn_resnet_parts(
    depth: int,
    *,
    num_classes: int = 174,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: Weights = None,
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
) -> dict[str, Any]:
    """The composed description of TRN with a ResNet-``depth`` backbone (arguments as :func:`trn_resnet`)."""
    return with_weights(
        {
            "type": "Recognizer2D",
            "num_segments": num_segments,
            "backbone": {
                "type": "resnet2d",
                "depth": depth,
                "pretrained": pretrained,
                "partial_bn": partial_bn,
                "norm_eval": norm_eval,
                "frozen_stages": frozen_stages,
            },
            "head": {
                "type": "trn_head",
                "num_classes": num_classes,
                "in_channels": resnet_channels(depth),
                "num_segments": num_segments,
                "multi_scale": multi_scale,
                "hidden_dim": hidden_dim,
                "dropout_ratio": dropout_ratio,
                "init_std": init_std,
                "seed": seed,
                "loss": classification_loss(multi_label=multi_label, label_smoothing=label_smoothing),
            },
        },
        weights,
        weights_backbone_only,
    )


def trn_resnet(depth: int, **kwargs: Any) -> Recognizer2D:
    """TRN with a ResNet-``depth`` backbone (MMAction2's ``ResNet`` + ``TRNHead``).

    Input (N, num_segments, 3, H, W): the relation head is built for ``num_segments`` and takes no other
    count. Keyword arguments: ``num_classes`` (174), ``num_segments`` (8), ``pretrained`` (the backbone from
    torchvision ImageNet weights; True = MMAction2's ``torchvision://resnet50``), ``weights`` (a checkpoint:
    catalogue name, path or URL; MMAction2's or ours), ``weights_backbone_only``, ``partial_bn`` (True: every
    BatchNorm but the first is fixed, as MMAction2's config), ``multi_scale`` (True: ``TRNMultiScale``;
    False: the single-scale relation), ``hidden_dim`` (256), ``dropout_ratio`` (0.8), ``init_std`` (0.001),
    ``label_smoothing``, ``multi_label``, ``norm_eval``, ``frozen_stages``, ``seed`` (fixes the tuples eval
    mode uses, see :mod:`action_trn.heads`). Defaults are MMAction2's TRN-R50 Something-Something config.
    """
    return compose_model(trn_resnet_parts(depth, **kwargs))


def trn_r50_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`trn_r50`."""
    return trn_resnet_parts(50, **kwargs)


def trn_r50(**kwargs: Any) -> Recognizer2D:
    """TRN on a ResNet-50 (keyword arguments as :func:`trn_resnet`)."""
    return compose_model(trn_r50_parts(**kwargs))
