"""Builders of the video Swin recognizers and their backbone (keyword-only, plain PyTorch modules).

``swin3d_t`` / ``swin3d_s`` / ``swin3d_b`` / ``swin3d_l``: MMAction2's ``SwinTransformer3D(arch=...)`` with
patch (2, 4, 4), window (8, 7, 7) and an ``I3DHead`` (core's ``i3d_head``: average pool, dropout, linear);
torchvision's ``swin3d_t/s/b`` are the same networks. Each recognizer is composed from the registered parts: its
``*_parts`` function returns the description for the builder's arguments and the builder builds it with core's
``compose_model``, which also loads ``weights`` through core's ``load_weights``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo, compose_model

from .backbones import SwinTransformer3D
from .inflate import Pretrained, inflate_pretrained

Weights = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any] | None

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
    pretrained: Pretrained = False,
    **options: Any,
) -> SwinTransformer3D:
    """A video Swin backbone of MMAction2's ``arch`` (``tiny``, ``small``, ``base``, ``large``); ``options``
    override any :class:`~action_swin.backbones.SwinTransformer3D` argument. ``pretrained`` inflates 2D ImageNet
    weights (``True``: torchvision's for the arch; a path: a 2D Swin file), read through core's ``load_weights``;
    ``backbone.inflation_report`` says what was filled."""
    if arch not in ARCHS:
        raise ValueError(f"unknown Swin arch {arch!r}; choose one of {', '.join(ARCHS)}")
    backbone = SwinTransformer3D(drop_path_rate=drop_path_rate, **{**ARCHS[arch], **options})
    if pretrained:
        backbone.inflation_report = inflate_pretrained(backbone, arch, pretrained)
    return backbone


def _out_channels(embed_dims: int, depths: Sequence[int]) -> int:
    """Width of the last stage: patch merging doubles it after every stage but the last."""
    return embed_dims * 2 ** (len(depths) - 1)


def _swin3d_parts(
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
    pretrained: Pretrained,
    weights: Weights,
    weights_backbone_only: bool,
) -> dict[str, Any]:
    return {
        "type": "Recognizer3D",
        "backbone": {
            "type": "swin3d",
            "arch": arch,
            "drop_path_rate": drop_path_rate,
            "pretrained": os.fspath(pretrained) if isinstance(pretrained, os.PathLike) else pretrained,
            "embed_dims": embed_dims,
            "depths": [int(d) for d in depths],
            "num_heads": [int(h) for h in num_heads],
            "window_size": [int(w) for w in window_size],
        },
        "head": {
            "type": "i3d_head",
            "num_classes": num_classes,
            "in_channels": _out_channels(embed_dims, depths),
            "dropout_ratio": dropout_ratio,
            "label_smoothing": label_smoothing,
        },
        "weights": weights,
        "weights_backbone_only": weights_backbone_only,
    }


def swin3d_t_parts(
    *,
    num_classes: int = 400,
    embed_dims: int = 96,
    depths: Sequence[int] = (2, 2, 6, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.1,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: Pretrained = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`swin3d_t` for the same arguments: backbone ``swin3d`` (``arch='tiny'``) and core's
    ``i3d_head``. ``embed_dims`` / ``depths`` / ``num_heads`` / ``window_size`` narrow it (tests). ``pretrained``:
    inflate ImageNet weights into the backbone (``True``: torchvision's ``swin_t``; a path: a 2D Swin file).
    ``weights``: a name in ``WEIGHTS``, a checkpoint file (MMAction2 or torchvision layout: the registered converter
    that fits is found) or a loaded checkpoint; ``weights_backbone_only`` loads its ``backbone.*`` only."""
    return _swin3d_parts(
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
        weights_backbone_only=weights_backbone_only,
    )


def swin3d_s_parts(
    *,
    num_classes: int = 400,
    embed_dims: int = 96,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (3, 6, 12, 24),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.2,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: Pretrained = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`swin3d_s` (``arch='small'``); arguments as :func:`swin3d_t_parts`."""
    return _swin3d_parts(
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
        weights_backbone_only=weights_backbone_only,
    )


def swin3d_b_parts(
    *,
    num_classes: int = 400,
    embed_dims: int = 128,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (4, 8, 16, 32),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.3,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: Pretrained = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`swin3d_b` (``arch='base'``); arguments as :func:`swin3d_t_parts`."""
    return _swin3d_parts(
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
        weights_backbone_only=weights_backbone_only,
    )


def swin3d_l_parts(
    *,
    num_classes: int = 400,
    embed_dims: int = 192,
    depths: Sequence[int] = (2, 2, 18, 2),
    num_heads: Sequence[int] = (6, 12, 24, 48),
    window_size: Sequence[int] = (8, 7, 7),
    drop_path_rate: float = 0.4,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    pretrained: Pretrained = False,
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`swin3d_l` (``arch='large'``, ImageNet-22k initialised in MMAction2: pass its 2D
    file as ``pretrained``; torchvision has no Swin-L); arguments as :func:`swin3d_t_parts`."""
    return _swin3d_parts(
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
        weights_backbone_only=weights_backbone_only,
    )


def swin3d_t(**kwargs: Any) -> Recognizer3D:
    """Video Swin-T (MMAction2 ``swin-tiny-p244-w877``): input (N, 3, 32, 224, 224), logits (N, num_classes);
    28,158,070 parameters with 400 classes. Arguments (and their defaults) as :func:`swin3d_t_parts`."""
    return compose_model(swin3d_t_parts(**kwargs))


def swin3d_s(**kwargs: Any) -> Recognizer3D:
    """Video Swin-S (MMAction2 ``swin-small-p244-w877``): 49,816,678 parameters with 400 classes; arguments as
    :func:`swin3d_s_parts`."""
    return compose_model(swin3d_s_parts(**kwargs))


def swin3d_b(**kwargs: Any) -> Recognizer3D:
    """Video Swin-B (MMAction2 ``swin-base-p244-w877``): 88,048,984 parameters with 400 classes; arguments as
    :func:`swin3d_b_parts`."""
    return compose_model(swin3d_b_parts(**kwargs))


def swin3d_l(**kwargs: Any) -> Recognizer3D:
    """Video Swin-L (MMAction2 ``swin-large-p244-w877``): 196,953,916 parameters with 400 classes; arguments as
    :func:`swin3d_l_parts`."""
    return compose_model(swin3d_l_parts(**kwargs))
