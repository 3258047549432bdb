"""TSN (Wang et al., 2016): a 2D ResNet on every segment, average consensus, dropout and a linear classifier.

Composition: action-tsn's ``resnet2d`` backbone + core's ``tsn_head`` in core's ``Recognizer2D``. Each
builder is ``compose_model`` of its ``*_parts`` description (registered as the model's ``expand``), so
``action-run config show PRESET --expand`` prints exactly what the builder builds.

Builders follow torchvision's style: keyword-only, ``num_classes``, ``pretrained`` (ImageNet backbone),
``weights`` (a published MMAction2 checkpoint by name, a local checkpoint path or a URL; loaded by core's
``load_weights``).
"""

from __future__ import annotations

import os
from typing import Any

from action_core.api import Recognizer2D, WeightsInfo, compose_model, mmaction2_weights

from .backbones import resnet_channels

__all__ = [
    "TSN_R50_WEIGHTS",
    "TSN_R101_WEIGHTS",
    "TSN_WEIGHTS",
    "classification_loss",
    "tsn_r18",
    "tsn_r18_parts",
    "tsn_r34",
    "tsn_r34_parts",
    "tsn_r50",
    "tsn_r50_parts",
    "tsn_r101",
    "tsn_r101_parts",
    "tsn_resnet",
    "tsn_resnet_parts",
    "with_weights",
]

Weights = str | os.PathLike[str] | WeightsInfo | None


def _mm_weights(
    config: str,
    stamp: str,
    depth: int,
    segs: int,
    dataset: str,
    classes: int,
    top1: float,
    top5: float,
    params: int,
) -> WeightsInfo:
    return mmaction2_weights(
        "tsn",
        config,
        stamp,
        converter="tsn_from_mmaction",
        dataset=dataset,
        metrics={"top1": top1, "top5": top5},
        num_params=params,
        depth=depth,
        num_classes=classes,
        num_segments=segs,
    )


#: MMAction2 1.x TSN checkpoints whose layout these builders reproduce (metrics as published by MMAction2).
TSN_WEIGHTS: dict[str, WeightsInfo] = {
    w.name: w
    for w in (
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb",
            "20220906-cd10898e",
            50,
            3,
            "kinetics400",
            400,
            72.83,
            90.65,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x5-100e_kinetics400-rgb",
            "20220906-65d68713",
            50,
            5,
            "kinetics400",
            400,
            73.80,
            91.21,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb",
            "20220906-2692d16c",
            50,
            8,
            "kinetics400",
            400,
            74.12,
            91.34,
            24_327_632,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r101_8xb32-1x1x8-100e_kinetics400-rgb",
            "20220906-23cff032",
            101,
            8,
            "kinetics400",
            400,
            75.89,
            92.07,
            43_319_760,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb",
            "20230313-06ad7d03",
            50,
            8,
            "sthv2",
            174,
            35.51,
            67.09,
            23_864_558,
        ),
        _mm_weights(
            "tsn_imagenet-pretrained-r50_8xb32-1x1x16-50e_sthv2-rgb",
            "20230221-85bcc1c3",
            50,
            16,
            "sthv2",
            174,
            36.91,
            68.77,
            23_864_558,
        ),
    )
}

#: The published checkpoints of each depth: the catalogues the models ``tsn_r50`` and ``tsn_r101`` register.
TSN_R50_WEIGHTS: dict[str, WeightsInfo] = {
    n: w for n, w in TSN_WEIGHTS.items() if w.builder_kwargs["depth"] == 50
}
TSN_R101_WEIGHTS: dict[str, WeightsInfo] = {
    n: w for n, w in TSN_WEIGHTS.items() if w.builder_kwargs["depth"] == 101
}


def classification_loss(*, multi_label: bool = False, label_smoothing: float = 0.0) -> dict[str, Any]:
    """The head's ``loss`` part: sigmoid BCE for multi-label data, else softmax cross-entropy with
    ``label_smoothing`` (which multi-label BCE has no use for)."""
    if multi_label:
        return {"type": "bce_with_logits"}
    return {"type": "cross_entropy", "label_smoothing": label_smoothing}


def with_weights(
    description: dict[str, Any], weights: Weights, weights_backbone_only: bool
) -> dict[str, Any]:
    """``description`` with the checkpoint ``compose_model`` loads once it has built the model, if any."""
    if weights is not None:
        description["weights"] = weights
        description["weights_backbone_only"] = weights_backbone_only
    return description


def tsn_resnet_parts(
    depth: int,
    *,
    num_classes: int = 400,
    num_segments: int = 3,
    pretrained: bool | str = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
    dropout_ratio: float = 0.4,
    init_std: float = 0.01,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
    norm_eval: bool = False,
    frozen_stages: int = -1,
) -> dict[str, Any]:
    """The composed description of TSN with a ResNet-``depth`` backbone (arguments as :func:`tsn_resnet`)."""
    return with_weights(
        {
            "type": "Recognizer2D",
            "num_segments": num_segments,
            "backbone": {
                "type": "resnet2d",
                "depth": depth,
                "pretrained": pretrained,
                "norm_eval": norm_eval,
                "frozen_stages": frozen_stages,
            },
            "head": {
                "type": "tsn_head",
                "num_classes": num_classes,
                "in_channels": resnet_channels(depth),
                "dropout_ratio": dropout_ratio,
                "init_std": init_std,
                "loss": classification_loss(multi_label=multi_label, label_smoothing=label_smoothing),
            },
        },
        weights,
        weights_backbone_only,
    )


def tsn_resnet(depth: int, **kwargs: Any) -> Recognizer2D:
    """TSN with a torchvision ResNet-``depth`` backbone and MMAction2's ``TSNHead`` (core's ``tsn_head``).

    Keyword arguments: ``num_classes`` (400), ``num_segments`` (3; it does not change the weights, TSN
    averages any number of segments; it is recorded on the model for configs and exporters), ``pretrained``
    (ImageNet backbone: True = torchvision ``IMAGENET1K_V1``, or a weights name / file path), ``weights``
    (a full checkpoint loaded afterwards; only its backbone with ``weights_backbone_only``, for fine-tuning
    on other classes), ``dropout_ratio`` (0.4), ``init_std`` (0.01), ``label_smoothing``, ``multi_label``
    (sigmoid BCE loss), ``norm_eval``, ``frozen_stages``.
    """
    return compose_model(tsn_resnet_parts(depth, **kwargs))


def tsn_r18_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsn_r18`."""
    return tsn_resnet_parts(18, **kwargs)


def tsn_r34_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsn_r34`."""
    return tsn_resnet_parts(34, **kwargs)


def tsn_r50_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsn_r50`."""
    return tsn_resnet_parts(50, **kwargs)


def tsn_r101_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsn_r101`."""
    return tsn_resnet_parts(101, **kwargs)


def tsn_r18(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-18 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return compose_model(tsn_r18_parts(**kwargs))


def tsn_r34(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-34 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return compose_model(tsn_r34_parts(**kwargs))


def tsn_r50(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-50 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return compose_model(tsn_r50_parts(**kwargs))


def tsn_r101(**kwargs: Any) -> Recognizer2D:
    """TSN, ResNet-101 backbone (keyword arguments as :func:`tsn_resnet`)."""
    return compose_model(tsn_r101_parts(**kwargs))
