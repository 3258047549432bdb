"""Builders of the video Swin recognizers and their backbone (keyword-only, plain PyTorch modules).

``swin3d_t`` / ``swin3d_s`` / ``swin3d_b`` / ``swin3d_l``: MMAction2's ``SwinTransformer3D(arch=...)`` with
patch (2, 4, 4), window (8, 7, 7) and an ``I3DHead`` (core's: average pool, dropout, linear); torchvision's
``swin3d_t/s/b`` are the same networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from action_core.api import I3DHead, Recognizer3D, WeightsInfo

from .backbones import SwinTransformer3D
from .inflate import inflate_swin2d_weights, load_swin2d_state_dict
from .weights import WeightsArg, apply_weights

ARCHS: dict[str, dict[str, Any]] = {
    "tiny": {"embed_dims": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24)},
    "small": {"embed_dims": 96, "depths": (2, 2, 18, 2), "num_heads": (3, 6, 12, 24)},
    "base": {"embed_dims": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32)},
    "large": {"embed_dims": 192, "depths": (2, 2, 18, 2), "num_heads": (6, 12, 24, 48)},
}

_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/swin"


def _mm(
    config: str, stamp: str, *, params: int, top1: float, top5: float, dataset: str = "kinetics400"
) -> WeightsInfo:
    return WeightsInfo(
        name=config,
        url=f"{_MM}/{config}/{config}_{stamp}.pth",
        source="mmaction2",
        converter="mmaction2_swin",
        meta={
            "num_params": params,
            "categories": dataset,
            "metrics": {"top1": top1, "top5": top5},
            "config": f"configs/recognition/swin/{config}.py",
        },
    )


WEIGHTS: dict[str, WeightsInfo] = {
    "swin3d_t_32x2x1_kinetics400_mmaction2": _mm(
        "swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb",
        "20220930-241016b2",
        params=28_158_070,
        top1=78.90,
        top5=93.77,
    ),
    "swin3d_t_kinetics400_torchvision": WeightsInfo(
        name="swin3d_t_kinetics400_torchvision",
        url="https://download.pytorch.org/models/swin3d_t-7615ae03.pth",
        source="torchvision",
        converter="torchvision_swin",
        meta={
            "num_params": 28_158_070,
            "categories": "kinetics400",
            "metrics": {"top1": 77.715, "top5": 93.519},
        },
    ),
}


def swin3d_backbone(
    *,
    arch: str = "tiny",
    drop_path_rate: float = 0.1,
    pretrained: bool | str | Path = False,
    **options: Any,
) -> SwinTransformer3D:
    """A video Swin backbone of MMAction2's ``arch`` (``tiny``, ``small``, ``base``, ``large``); ``options``
    override any :class:`~action_swin.backbones.SwinTransformer3D` argument. ``pretrained`` inflates 2D ImageNet
    weights (``True``: torchvision's for the arch; a path: a 2D Swin file); ``backbone.inflation_report`` says
    what was filled."""
    if arch not in ARCHS:
        raise ValueError(f"unknown Swin arch {arch!r}; choose one of {', '.join(ARCHS)}")
    backbone = SwinTransformer3D(drop_path_rate=drop_path_rate, **{**ARCHS[arch], **options})
    if pretrained:
        backbone.inflation_report = inflate_swin2d_weights(backbone, load_swin2d_state_dict(arch, pretrained))
    return backbone


def _swin3d(
    arch: str,
    *,
    num_classes: int,
    embed_dims: int,
    depths: Sequence[int],
    num_heads: Sequence[int],
    window_size: Sequence[int],
    drop_path_rate: float,
    dropout_ratio: float,
    label_smoothing: float,
    pretrained: bool | str | Path,
    weights: WeightsArg,
    progress: bool,
) -> Recognizer3D:
    backbone = swin3d_backbone(
        arch=arch,
        drop_path_rate=drop_path_rate,
        pretrained=pretrained,
        embed_dims=embed_dims,
        depths=tuple(depths),
        num_heads=tuple(num_heads),
        window_size=tuple(window_size),
    )
    head = I3DHead(
        num_classes, backbone.out_channels, dropout_ratio=dropout_ratio, label_smoothing=label_smoothing
    )
    model = Recognizer3D(backbone, head)
    apply_weights(model, weights, catalogue=WEIGHTS, progress=progress)
    return model


def swin3d_t(
    *,
    num_classes: int = 400,
    embed_dims: int = 96,
    depths: Sequence[int] = (2, 2, 6, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.1,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: bool | str | Path = False,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """Video Swin-T (MMAction2 ``swin-tiny-p244-w877``): input (N, 3, 32, 224, 224), logits (N, num_classes);
    28,158,070 parameters with 400 classes. ``embed_dims`` / ``depths`` / ``num_heads`` / ``window_size``
    narrow it (tests). ``pretrained``: inflate ImageNet weights (``True``: torchvision's ``swin_t``).
    ``weights``: a name in ``WEIGHTS`` or an MMAction2 checkpoint."""
    return _swin3d(
        "tiny",
        num_classes=num_classes,
        embed_dims=embed_dims,
        depths=depths,
        num_heads=num_heads,
        window_size=window_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        pretrained=pretrained,
        weights=weights,
        progress=progress,
    )


def swin3d_s(
    *,
    num_classes: int = 400,
    embed_dims: int = 96,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.2,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: bool | str | Path = False,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """Video Swin-S (MMAction2 ``swin-small-p244-w877``): 49,816,678 parameters with 400 classes; arguments as
    ``swin3d_t``."""
    return _swin3d(
        "small",
        num_classes=num_classes,
        embed_dims=embed_dims,
        depths=depths,
        num_heads=num_heads,
        window_size=window_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        pretrained=pretrained,
        weights=weights,
        progress=progress,
    )


def swin3d_b(
    *,
    num_classes: int = 400,
    embed_dims: int = 128,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (4, 8, 16, 32),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.3,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: bool | str | Path = False,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """Video Swin-B (MMAction2 ``swin-base-p244-w877``): 88,048,984 parameters with 400 classes; arguments as
    ``swin3d_t``."""
    return _swin3d(
        "base",
        num_classes=num_classes,
        embed_dims=embed_dims,
        depths=depths,
        num_heads=num_heads,
        window_size=window_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        pretrained=pretrained,
        weights=weights,
        progress=progress,
    )


def swin3d_l(
    *,
    num_classes: int = 400,
    embed_dims: int = 192,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (6, 12, 24, 48),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.4,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: bool | str | Path = False,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """Video Swin-L (MMAction2 ``swin-large-p244-w877``, ImageNet-22k initialised there: pass its 2D file as
    ``pretrained``; torchvision has no Swin-L): arguments as ``swin3d_t``."""
    return _swin3d(
        "large",
        num_classes=num_classes,
        embed_dims=embed_dims,
        depths=depths,
        num_heads=num_heads,
        window_size=window_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        pretrained=pretrained,
        weights=weights,
        progress=progress,
    )
