"""R(2+1)D (Tran et al. 2018): every 3D convolution t x d x d is factorised into a 1 x d x d spatial convolution,
BatchNorm + ReLU, and a t x 1 x 1 temporal one. The width M of the intermediate space is chosen so the pair has
about as many parameters as the full 3D kernel: M = floor(t d^2 N_in N_out / (d^2 N_in + t N_out)).

Two forms are provided:

* ``r2plus1d_r34``: MMAction2's ``ResNet2Plus1d`` (a ``ResNet3d`` with factorised convolutions everywhere, also in
  the stem and the 1x1x1 shortcuts, the formula applied to each convolution with t fixed to 3, BatchNorm eps
  1e-3 except in the intermediate norms, a stem max-pool, temporal strides 1, 2, 2, 2).
* ``r2plus1d_18``: torchvision's ``r2plus1d_18`` (stem with 45 intermediate channels and no max-pool, M computed
  once per block from the block's input width, plain 1x1x1 shortcuts striding in time too, no dropout).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from typing import Any

import torch
from torch import nn

from action_core.api import Recognizer3D, WeightsInfo, compose_model
from action_resnet3d import ConvBNAct, ResNet3d, feature_width
from action_resnet3d.layers import triple

WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]


def mid_channels(in_channels: int, out_channels: int, spatial: int = 3, temporal: int = 3) -> int:
    """Intermediate width of a factorised t x d x d convolution (parameter-matching formula)."""
    numerator = temporal * spatial * spatial * in_channels * out_channels
    return numerator // (spatial * spatial * in_channels + temporal * out_channels)


class Conv2plus1d(nn.Module):
    """A t x kh x kw convolution factorised as 1 x kh x kw (``conv_s``), BatchNorm (``bn_s``), ReLU and
    t x 1 x 1 (``conv_t``). Spatial stride/padding go to ``conv_s``, temporal ones to ``conv_t``.

    ``mid`` defaults to MMAction2's rule (the formula with t = 3 whatever the kernel); ``dilation`` is accepted
    for interface compatibility and must be 1 in time.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        *,
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        bias: bool = False,
        mid: int | None = None,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        k, s, p = triple(kernel_size), triple(stride), triple(padding)
        if triple(dilation) != (1, 1, 1):
            raise ValueError(f"Conv2plus1d does not support dilation, got {dilation!r}")
        if mid is None:
            mid = int(
                3 * in_channels * out_channels * k[1] * k[2] / (in_channels * k[1] * k[2] + 3 * out_channels)
            )
        self.mid_channels = mid
        self.conv_s = nn.Conv3d(
            in_channels, mid, (1, k[1], k[2]), stride=(1, s[1], s[2]), padding=(0, p[1], p[2]), bias=bias
        )
        self.bn_s = nn.BatchNorm3d(mid, eps=norm_eps)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = nn.Conv3d(
            mid, out_channels, (k[0], 1, 1), stride=(s[0], 1, 1), padding=(p[0], 0, 0), bias=bias
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_t(self.relu(self.bn_s(self.conv_s(x))))


def r2plus1d_backbone(*, depth: int = 34, **overrides: object) -> ResNet3d:
    """MMAction2's ``ResNet2Plus1d`` configuration; ``overrides`` replace any ``ResNet3d`` argument."""
    kwargs: dict[str, object] = {
        "conv1_kernel": (3, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "inflate": (1, 1, 1, 1),
        "spatial_strides": (1, 2, 2, 2),
        "temporal_strides": (1, 2, 2, 2),
        "with_pool2": False,
        "norm_eps": 1e-3,
        "zero_init_residual": False,
        "conv_layer": Conv2plus1d,
    }
    kwargs.update(overrides)
    return ResNet3d(depth, **kwargs)  # type: ignore[arg-type]


def torchvision_r2plus1d_backbone(*, depth: int = 18) -> ResNet3d:
    """torchvision's R(2+1)D layout on our ``ResNet3d`` (depth 18 or 34). Three parts differ from MMAction2's
    form and are replaced: the stem (45 intermediate channels, no max-pool), the intermediate widths (computed
    once per block from the block's input width, shared by both convolutions) and the shortcuts (plain
    1x1x1 convolutions striding in time as well as space)."""
    if depth not in (18, 34):
        raise ValueError(f"torchvision-form R(2+1)D uses basic blocks: depth must be 18 or 34, got {depth!r}")
    backbone = ResNet3d(
        depth,
        conv1_kernel=(3, 7, 7),
        with_pool1=False,
        with_pool2=False,
        temporal_strides=(1, 2, 2, 2),
        inflate=(1, 1, 1, 1),
        zero_init_residual=False,
        conv_layer=Conv2plus1d,
    )
    backbone.conv1 = ConvBNAct(
        3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), conv_layer=partial(Conv2plus1d, mid=45)
    )
    for name in backbone.res_layers:
        for block in getattr(backbone, name):
            inplanes = block.conv1.conv.conv_s.in_channels
            planes = block.conv2.conv.conv_t.out_channels
            mid = mid_channels(inplanes, planes)
            stride = block.conv1.conv.conv_s.stride[1]
            block.conv1.conv = Conv2plus1d(inplanes, planes, 3, stride=stride, padding=1, mid=mid)
            block.conv2.conv = Conv2plus1d(planes, planes, 3, padding=1, mid=mid)
            if block.downsample is not None:
                block.downsample = ConvBNAct(inplanes, planes, 1, stride=stride, act=False)
    backbone.reset_parameters(zero_init_residual=False)
    return backbone


_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/r2plus1d"
WEIGHTS: dict[str, WeightsInfo] = {
    "r2plus1d_r34_8x8x1_kinetics400_mmaction2": WeightsInfo(
        name="r2plus1d_r34_8x8x1_kinetics400_mmaction2",
        url=f"{_MM}/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb/"
        "r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb_20220812-47cfe041.pth",
        source="mmaction2",
        converter="mmaction2_r2plus1d",
        meta={
            "num_params": 63_759_281,
            "categories": "kinetics400",
            "metrics": {"top1": 69.76, "top5": 88.41},
        },
    ),
    "r2plus1d_r34_32x2x1_kinetics400_mmaction2": WeightsInfo(
        name="r2plus1d_r34_32x2x1_kinetics400_mmaction2",
        url=f"{_MM}/r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb/"
        "r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb_20220812-4270588c.pth",
        source="mmaction2",
        converter="mmaction2_r2plus1d",
        meta={
            "num_params": 63_759_281,
            "categories": "kinetics400",
            "metrics": {"top1": 75.46, "top5": 92.28},
        },
    ),
    "r2plus1d_18_kinetics400_torchvision": WeightsInfo(
        name="r2plus1d_18_kinetics400_torchvision",
        url="https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth",
        source="torchvision",
        converter="torchvision_r2plus1d",
        meta={
            "num_params": 31_505_325,
            "categories": "kinetics400",
            "metrics": {"top1": 67.463, "top5": 86.175},
            "torchvision": "R2Plus1D_18_Weights.KINETICS400_V1",
        },
    ),
}


#: The published checkpoints of each model (its registered ``weights`` catalogue).
R2PLUS1D_R34_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("r2plus1d_r34_")}
R2PLUS1D_18_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("r2plus1d_18_")}


def _i3d_head(num_classes: int, in_channels: int, dropout_ratio: float, init_std: float) -> dict[str, Any]:
    return {
        "type": "i3d_head",
        "num_classes": num_classes,
        "in_channels": in_channels,
        "dropout_ratio": dropout_ratio,
        "init_std": init_std,
        "loss": {"type": "cross_entropy"},
    }


def r2plus1d_r34_parts(
    *,
    num_classes: int = 400,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``r2plus1d_r34`` composed of registered parts: backbone ``resnet2plus1d`` (``backbone_kwargs`` go there)
    and core's ``i3d_head``. ``weights`` (a published name from ``WEIGHTS``, a path to an MMAction2 checkpoint
    or a loaded one) are loaded by core's ``load_weights`` once it is built."""
    backbone = {"type": "resnet2plus1d", "depth": 34, **backbone_kwargs}
    width = feature_width(
        backbone["depth"],
        base_channels=backbone.get("base_channels", 64),
        num_stages=backbone.get("num_stages", 4),
    )
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "backbone": backbone,
        "head": _i3d_head(num_classes, width, dropout_ratio, init_std),
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def r2plus1d_r34(**kwargs: Any) -> Recognizer3D:
    """R(2+1)D-34 recognizer as MMAction2 builds it; input (N, 3, T, H, W), output logits (N, num_classes).
    Keyword arguments as ``r2plus1d_r34_parts`` (``num_classes=400, dropout_ratio=0.5, init_std=0.01,
    weights=None, weights_backbone_only=False, **backbone_kwargs``); ``weights``: a name in ``WEIGHTS``, a
    path to an MMAction2 checkpoint or a loaded one."""
    return compose_model(r2plus1d_r34_parts(**kwargs))


def r2plus1d_18_parts(
    *,
    num_classes: int = 400,
    dropout_ratio: float = 0.0,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """``r2plus1d_18`` composed of registered parts: backbone ``resnet2plus1d_torchvision`` and core's
    ``i3d_head`` (without dropout, as torchvision). ``weights``: ``"r2plus1d_18_kinetics400_torchvision"``
    (torchvision's ``KINETICS400_V1``, listed in ``R2PLUS1D_18_WEIGHTS``), a path or a loaded state dict."""
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "backbone": {"type": "resnet2plus1d_torchvision", "depth": 18},
        "head": _i3d_head(num_classes, feature_width(18), dropout_ratio, init_std),
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def r2plus1d_18(**kwargs: Any) -> Recognizer3D:
    """R(2+1)D-18 with torchvision's ``r2plus1d_18`` architecture (same parameter count and outputs); keyword
    arguments as ``r2plus1d_18_parts`` (``num_classes=400, dropout_ratio=0.0, init_std=0.01, weights=None,
    weights_backbone_only=False``). ``weights="r2plus1d_18_kinetics400_torchvision"`` loads torchvision's
    published Kinetics-400 weights (torch hub cache, downloaded when missing) through the
    ``torchvision_r2plus1d`` converter."""
    return compose_model(r2plus1d_18_parts(**kwargs))
