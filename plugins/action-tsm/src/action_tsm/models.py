"""TSM (Lin et al., 2019): TSN with temporal shift in the backbone and a per-segment classifier.

Composition: action-tsm's ``resnet_tsm`` / ``mobilenetv2_tsm`` backbone + core's ``tsm_head`` in core's
``Recognizer2D``. Each builder is ``compose_model`` of its ``*_parts`` description (registered as the
model's ``expand``), so ``action-run config show PRESET --expand`` prints exactly what the builder builds.

Builders follow torchvision's style: keyword-only, ``num_classes``, ``num_segments``, ``pretrained``
(ImageNet backbone), ``weights`` (a published MMAction2 checkpoint by name, a local checkpoint path or a
URL; loaded by core's ``load_weights``).
"""

from __future__ import annotations

from typing import Any

from action_core.api import Recognizer2D, WeightsInfo, compose_model, mmaction2_weights
from action_tsn.backbones import resnet_channels
from action_tsn.models import Weights, classification_loss, with_weights

from .backbones import ShiftPlace

__all__ = [
    "TSM_R50_WEIGHTS",
    "TSM_R101_WEIGHTS",
    "TSM_WEIGHTS",
    "tsm_mobilenetv2",
    "tsm_mobilenetv2_parts",
    "tsm_r18",
    "tsm_r18_parts",
    "tsm_r34",
    "tsm_r34_parts",
    "tsm_r50",
    "tsm_r50_parts",
    "tsm_r101",
    "tsm_r101_parts",
    "tsm_resnet",
    "tsm_resnet_parts",
]


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
        "tsm",
        config,
        stamp,
        converter="tsm_from_mmaction",
        dataset=dataset,
        metrics={"top1": top1, "top5": top5},
        num_params=params,
        depth=depth,
        num_classes=classes,
        num_segments=segs,
    )


#: MMAction2 1.x TSM checkpoints whose layout these builders reproduce (metrics as published by MMAction2).
TSM_WEIGHTS: dict[str, WeightsInfo] = {
    w.name: w
    for w in (
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb",
            "20220831-64d69186",
            50,
            8,
            "kinetics400",
            400,
            73.18,
            90.56,
            24_327_632,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-1x1x8-100e_kinetics400-rgb",
            "20220831-a6db1e5d",
            50,
            8,
            "kinetics400",
            400,
            73.22,
            90.22,
            24_327_632,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-1x1x16-50e_kinetics400-rgb",
            "20220831-042b1748",
            50,
            16,
            "kinetics400",
            400,
            75.12,
            91.55,
            24_327_632,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-dense-1x1x8-50e_kinetics400-rgb",
            "20220831-f55d3c2b",
            50,
            8,
            "kinetics400",
            400,
            73.38,
            90.78,
            24_327_632,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb",
            "20230317-be0fc26e",
            50,
            8,
            "sthv2",
            174,
            62.72,
            87.70,
            23_864_558,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r50_8xb16-1x1x16-50e_sthv2-rgb",
            "20230317-ec6696ad",
            50,
            16,
            "sthv2",
            174,
            64.16,
            88.61,
            23_864_558,
        ),
        _mm_weights(
            "tsm_imagenet-pretrained-r101_8xb16-1x1x8-50e_sthv2-rgb",
            "20230320-efcc0d1b",
            101,
            8,
            "sthv2",
            174,
            63.70,
            88.28,
            42_856_686,
        ),
    )
}

#: The published checkpoints of each depth: the catalogues the models ``tsm_r50`` and ``tsm_r101`` register.
TSM_R50_WEIGHTS: dict[str, WeightsInfo] = {
    n: w for n, w in TSM_WEIGHTS.items() if w.builder_kwargs["depth"] == 50
}
TSM_R101_WEIGHTS: dict[str, WeightsInfo] = {
    n: w for n, w in TSM_WEIGHTS.items() if w.builder_kwargs["depth"] == 101
}


def _tsm_head(
    *,
    num_classes: int,
    in_channels: int,
    num_segments: int,
    is_shift: bool,
    temporal_pool: bool,
    dropout_ratio: float,
    init_std: float,
    label_smoothing: float,
    multi_label: bool,
) -> dict[str, Any]:
    return {
        "type": "tsm_head",
        "num_classes": num_classes,
        "in_channels": in_channels,
        "num_segments": num_segments,
        "is_shift": is_shift,
        "temporal_pool": temporal_pool,
        "dropout_ratio": dropout_ratio,
        "init_std": init_std,
        "loss": classification_loss(multi_label=multi_label, label_smoothing=label_smoothing),
    }


def tsm_resnet_parts(
    depth: int,
    *,
    num_classes: int = 400,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
    shift_div: int = 8,
    shift_place: ShiftPlace = "blockres",
    temporal_pool: bool = False,
    is_shift: bool = True,
    dropout_ratio: float = 0.5,
    init_std: float = 0.001,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
    norm_eval: bool = False,
    frozen_stages: int = -1,
) -> dict[str, Any]:
    """The composed description of TSM with a ResNet-``depth`` backbone (arguments as :func:`tsm_resnet`)."""
    return with_weights(
        {
            "type": "Recognizer2D",
            "num_segments": num_segments,
            "backbone": {
                "type": "resnet_tsm",
                "depth": depth,
                "pretrained": pretrained,
                "num_segments": num_segments,
                "shift_div": shift_div,
                "shift_place": shift_place,
                "temporal_pool": temporal_pool,
                "is_shift": is_shift,
                "norm_eval": norm_eval,
                "frozen_stages": frozen_stages,
            },
            "head": _tsm_head(
                num_classes=num_classes,
                in_channels=resnet_channels(depth),
                num_segments=num_segments,
                is_shift=is_shift,
                temporal_pool=temporal_pool,
                dropout_ratio=dropout_ratio,
                init_std=init_std,
                label_smoothing=label_smoothing,
                multi_label=multi_label,
            ),
        },
        weights,
        weights_backbone_only,
    )


def tsm_resnet(depth: int, **kwargs: Any) -> Recognizer2D:
    """TSM with a ResNet-``depth`` backbone (MMAction2's ``ResNetTSM`` + ``TSMHead``).

    The model expects (N, num_segments, 3, H, W) input. Keyword arguments: ``num_classes`` (400),
    ``num_segments`` (8), ``pretrained`` (the backbone from torchvision ImageNet weights: True =
    ``IMAGENET1K_V1``, MMAction2's ``torchvision://resnet50``), ``weights`` (a checkpoint loaded afterwards,
    MMAction2's or ours; only its backbone with ``weights_backbone_only``), ``shift_div`` (8),
    ``shift_place`` (``"blockres"``), ``temporal_pool``, ``is_shift``, ``dropout_ratio`` (0.5), ``init_std``
    (0.001), ``label_smoothing``, ``multi_label``, ``norm_eval``, ``frozen_stages``. Defaults are MMAction2's
    TSM-R50 config.
    """
    return compose_model(tsm_resnet_parts(depth, **kwargs))


def tsm_r18_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsm_r18`."""
    return tsm_resnet_parts(18, **kwargs)


def tsm_r34_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsm_r34`."""
    return tsm_resnet_parts(34, **kwargs)


def tsm_r50_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsm_r50`."""
    return tsm_resnet_parts(50, **kwargs)


def tsm_r101_parts(**kwargs: Any) -> dict[str, Any]:
    """The composed description of :func:`tsm_r101`."""
    return tsm_resnet_parts(101, **kwargs)


def tsm_r18(**kwargs: Any) -> Recognizer2D:
    """TSM, ResNet-18 backbone (keyword arguments as :func:`tsm_resnet`)."""
    return compose_model(tsm_r18_parts(**kwargs))


def tsm_r34(**kwargs: Any) -> Recognizer2D:
    """TSM, ResNet-34 backbone (keyword arguments as :func:`tsm_resnet`)."""
    return compose_model(tsm_r34_parts(**kwargs))


def tsm_r50(**kwargs: Any) -> Recognizer2D:
    """TSM, ResNet-50 backbone (keyword arguments as :func:`tsm_resnet`)."""
    return compose_model(tsm_r50_parts(**kwargs))


def tsm_r101(**kwargs: Any) -> Recognizer2D:
    """TSM, ResNet-101 backbone (keyword arguments as :func:`tsm_resnet`)."""
    return compose_model(tsm_r101_parts(**kwargs))


def tsm_mobilenetv2_parts(
    *,
    num_classes: int = 400,
    num_segments: int = 8,
    pretrained: bool | str = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
    shift_div: int = 8,
    is_shift: bool = True,
    dropout_ratio: float = 0.5,
    init_std: float = 0.001,
    label_smoothing: float = 0.0,
    multi_label: bool = False,
) -> dict[str, Any]:
    """The composed description of :func:`tsm_mobilenetv2`."""
    return with_weights(
        {
            "type": "Recognizer2D",
            "num_segments": num_segments,
            "backbone": {
                "type": "mobilenetv2_tsm",
                "pretrained": pretrained,
                "num_segments": num_segments,
                "shift_div": shift_div,
                "is_shift": is_shift,
            },
            "head": _tsm_head(
                num_classes=num_classes,
                in_channels=1280,
                num_segments=num_segments,
                is_shift=is_shift,
                temporal_pool=False,
                dropout_ratio=dropout_ratio,
                init_std=init_std,
                label_smoothing=label_smoothing,
                multi_label=multi_label,
            ),
        },
        weights,
        weights_backbone_only,
    )


def tsm_mobilenetv2(**kwargs: Any) -> Recognizer2D:
    """TSM with a MobileNetV2 backbone (MMAction2's ``MobileNetV2TSM`` + ``TSMHead``, 1280 channels).

    ``pretrained`` loads torchvision's ImageNet MobileNetV2 (True = ``IMAGENET1K_V1``). Keyword arguments:
    ``num_classes``, ``num_segments``, ``pretrained``, ``weights``, ``weights_backbone_only``, ``shift_div``,
    ``is_shift``, ``dropout_ratio``, ``init_std``, ``label_smoothing``, ``multi_label`` (as :func:`tsm_resnet`).
    """
    return compose_model(tsm_mobilenetv2_parts(**kwargs))
