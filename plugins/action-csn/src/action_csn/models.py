"""Channel-separated networks (Tran et al. 2019) in MMAction2's ``ResNet3dCSN`` form.

A 3D ResNet (``action_resnet3d.ResNet3d``: 3x7x7 stem, 3x3x3-style inflation, temporal strides 1, 2, 2, 2,
BatchNorm eps 1e-3) whose bottleneck 3x3x3 convolutions are channel-separated: depthwise in the
interaction-reduced form (``"ir"``), a 1x1x1 convolution + BatchNorm and then depthwise in the
interaction-preserved form (``"ip"``). The separation is plugged in through ``ResNet3d``'s ``conv_layer``
factory, so the backbone is built without ever allocating the dense 3x3x3 kernels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from typing import Any, Literal

import torch
from torch import nn

from action_core.api import CheckpointMismatchError, Recognizer3D, WeightsInfo, compose_model, load_weights
from action_resnet3d import ResNet3d, conv3d, feature_width
from action_resnet3d.layers import triple

BottleneckMode = Literal["ir", "ip"]
WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]


class InteractionPreservedConv3d(nn.Module):
    """ip-CSN's factorisation of a t x k x k convolution: 1x1x1 convolution, BatchNorm, then the depthwise
    t x k x k convolution (the BatchNorm and ReLU after it belong to the enclosing unit)."""

    def __init__(
        self,
        channels: int,
        kernel_size: tuple[int, int, int],
        *,
        stride: tuple[int, int, int],
        padding: tuple[int, int, int],
        dilation: tuple[int, int, int],
        bias: bool,
        norm_eps: float,
    ) -> None:
        super().__init__()
        self.pointwise = nn.Conv3d(channels, channels, 1, bias=False)
        self.norm = nn.BatchNorm3d(channels, eps=norm_eps)
        self.depthwise = nn.Conv3d(
            channels,
            channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=channels,
            bias=bias,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.depthwise(self.norm(self.pointwise(x)))


def channel_separated_conv3d(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, ...],
    *,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    bias: bool = False,
    bottleneck_mode: BottleneckMode = "ir",
    norm_eps: float = 1e-3,
) -> nn.Module:
    """``ResNet3d`` convolution factory of CSN: a convolution with a 3x3 spatial kernel that keeps its width
    (a bottleneck's ``conv2``) becomes channel-separated; every other one (the stem, 1x1x1 projections) stays
    a plain convolution."""
    kernel = triple(tuple(kernel_size) if not isinstance(kernel_size, int) else kernel_size)
    if in_channels != out_channels or kernel[1:] != (3, 3):
        return conv3d(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=bias,
        )
    geometry = {"stride": triple(stride), "padding": triple(padding), "dilation": triple(dilation)}
    if bottleneck_mode == "ip":
        return InteractionPreservedConv3d(in_channels, kernel, bias=bias, norm_eps=norm_eps, **geometry)
    return nn.Conv3d(in_channels, out_channels, kernel, groups=in_channels, bias=bias, **geometry)


class ResNet3dCSN(ResNet3d):
    """CSN backbone: ``ResNet3d`` with channel-separated bottlenecks and MMAction2's CSN defaults.

    Args:
        depth: 50, 101 or 152 (CSN uses bottleneck blocks).
        bottleneck_mode: ``"ir"`` (depthwise 3x3x3) or ``"ip"`` (1x1x1 + BatchNorm, then depthwise).
        bn_frozen: with ``norm_eval``, also stop gradients to the BatchNorm weights and biases (MMAction2's
            ``-bnfrozen`` recipes fine-tune from IG-65M this way).
        **kwargs: any other ``ResNet3d`` argument (``norm_eval``, ``frozen_stages``, ``base_channels``, ...).
    """

    def __init__(
        self,
        depth: int = 152,
        *,
        bottleneck_mode: BottleneckMode = "ir",
        bn_frozen: bool = False,
        temporal_strides: tuple[int, ...] = (1, 2, 2, 2),
        conv1_kernel: tuple[int, int, int] = (3, 7, 7),
        inflate_style: Literal["3x1x1", "3x3x3"] = "3x3x3",
        with_pool2: bool = False,
        norm_eps: float = 1e-3,
        zero_init_residual: bool = False,
        **kwargs: Any,
    ) -> None:
        if depth not in (50, 101, 152):
            raise ValueError(f"CSN depth must be 50, 101 or 152 (bottleneck ResNets), got {depth!r}")
        if bottleneck_mode not in ("ir", "ip"):
            raise ValueError(f"bottleneck_mode must be 'ir' or 'ip', got {bottleneck_mode!r}")
        if "conv_layer" in kwargs:
            raise ValueError(
                "ResNet3dCSN sets conv_layer itself; choose the factorisation with bottleneck_mode"
            )
        self.bottleneck_mode = bottleneck_mode
        self.bn_frozen = bn_frozen
        super().__init__(
            depth,
            temporal_strides=temporal_strides,
            conv1_kernel=conv1_kernel,
            inflate_style=inflate_style,
            with_pool2=with_pool2,
            norm_eps=norm_eps,
            zero_init_residual=zero_init_residual,
            conv_layer=partial(channel_separated_conv3d, bottleneck_mode=bottleneck_mode, norm_eps=norm_eps),
            **kwargs,
        )
        self._freeze_norms()

    def _freeze_norms(self) -> None:
        if not (self.norm_eval and self.bn_frozen):
            return
        for module in self.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                for param in module.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True) -> ResNet3dCSN:
        """As ``ResNet3d.train``; with ``norm_eval`` and ``bn_frozen`` the BatchNorm parameters stay frozen."""
        super().train(mode)
        self._freeze_norms()
        return self


_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/csn"
_CONFIG = "ircsn_ig65m-pretrained-r152-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb"
IG65M_IRCSN_R152_URL = "https://download.openmmlab.com/mmaction/recognition/csn/ircsn_from_scratch_r152_ig65m_20200807-771c4135.pth"
WEIGHTS: dict[str, WeightsInfo] = {
    "ircsn_r152_ig65m_bnfrozen_32x2x1_kinetics400_mmaction2": WeightsInfo(
        name="ircsn_r152_ig65m_bnfrozen_32x2x1_kinetics400_mmaction2",
        url=f"{_MM}/{_CONFIG}/{_CONFIG}_20220811-7d1dacde.pth",
        source="mmaction2",
        converter="mmaction2_csn",
        meta={
            "num_params": 29_703_568,
            "categories": "kinetics400",
            "metrics": {"top1": 82.84, "top5": 95.92},
            "config": f"configs/recognition/csn/{_CONFIG}.py",
        },
    ),
}


def csn_backbone(
    *,
    depth: int = 152,
    bottleneck_mode: BottleneckMode = "ir",
    pretrained: bool | str | os.PathLike[str] = False,
    **kwargs: Any,
) -> ResNet3dCSN:
    """MMAction2's ``ResNet3dCSN`` (keywords as ``ResNet3dCSN``). ``pretrained``: ``True`` loads the IG-65M
    ir-CSN-152 backbone MMAction2's recipes start from (core's ``load_weights`` downloads it to the torch hub
    cache), a path loads a local backbone checkpoint. Keys beyond the backbone (a pre-training classifier) are
    ignored and listed in ``backbone.pretrained_report``; a missing or misshapen backbone tensor is an error."""
    backbone = ResNet3dCSN(depth, bottleneck_mode=bottleneck_mode, **kwargs)
    if pretrained:
        if pretrained is True and (depth, bottleneck_mode) != (152, "ir"):
            raise ValueError(
                f"pretrained=True loads the IG-65M ir-CSN-152 backbone; this is {bottleneck_mode}-CSN-{depth}:"
                " pass a path to a backbone checkpoint of that network instead"
            )
        from action_csn.convert import convert_mmaction2_backbone

        source = IG65M_IRCSN_R152_URL if pretrained is True else pretrained
        report = load_weights(backbone, source, converter=convert_mmaction2_backbone, strict=False)
        if report.missing or report.shape_mismatch:
            raise CheckpointMismatchError(
                f"{os.fspath(source)} does not hold the whole backbone: {report.summary()}", report
            )
        backbone.pretrained_report = report
    return backbone


def ircsn_r152_parts(
    *,
    num_classes: int = 400,
    depth: int = 152,
    pretrained: bool | str | os.PathLike[str] = False,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``ircsn_r152`` composed of registered parts: backbone ``resnet3d_csn`` (``depth``, ``pretrained`` and
    ``backbone_kwargs`` go there) and core's ``i3d_head``; ``clip_len`` 32, the frame count it was trained on.
    ``weights`` (a published name from ``WEIGHTS``, a path to an MMAction2 checkpoint or a loaded one) are
    loaded by core's ``load_weights`` once it is built."""
    backbone = {"type": "resnet3d_csn", "depth": depth, "pretrained": pretrained, **backbone_kwargs}
    width = feature_width(
        depth, base_channels=backbone.get("base_channels", 64), num_stages=backbone.get("num_stages", 4)
    )
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "clip_len": 32,
        "backbone": backbone,
        "head": {
            "type": "i3d_head",
            "num_classes": num_classes,
            "in_channels": width,
            "dropout_ratio": dropout_ratio,
            "init_std": init_std,
            "loss": {"type": "cross_entropy"},
        },
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def ircsn_r152(**kwargs: Any) -> Recognizer3D:
    """ir-CSN ResNet-152 recognizer; input (N, 3, 32, 224, 224) as trained (MMAction2 tests 256 px crops),
    output logits (N, num_classes). Keyword arguments as ``ircsn_r152_parts`` (``num_classes=400, depth=152,
    pretrained=False, dropout_ratio=0.5, init_std=0.01, weights=None, weights_backbone_only=False,
    **backbone_kwargs``). ``depth`` 50 or 101 builds the shallower CSNs of MMAction2's other recipes (and
    narrow test models). ``backbone_kwargs`` go to ``ResNet3dCSN`` (the ``-bnfrozen`` recipe:
    ``norm_eval=True, bn_frozen=True``; ``bottleneck_mode="ip"`` gives ip-CSN). ``weights``: a name in
    ``WEIGHTS``, a path to an MMAction2 checkpoint or a loaded one (loaded strictly); ``pretrained``
    initialises the backbone instead (see ``csn_backbone``)."""
    return compose_model(ircsn_r152_parts(**kwargs))
