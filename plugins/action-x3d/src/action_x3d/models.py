"""X3D (Feichtenhofer 2020) in MMAction2's form, which is also PyTorchVideo's network.

A 1x3x3 spatial stem convolution and a depthwise 5x1x1 temporal one, four stages of inverted bottlenecks
(1x1x1 expand, depthwise 3x3x3, squeeze-excitation on every other block, swish, 1x1x1 project), a 1x1x1
``conv5`` widening the last stage, and a head that pools, projects to 2048 channels without bias, applies ReLU
and dropout and classifies. X3D-S and X3D-M are the same network (3,794,322 parameters with 400 classes):
they differ in the clip they see (13 frames at 160 px for S, 16 at 224 px for M).

Module names follow MMAction2 (``conv1_s``, ``conv1_t``, ``layer{i}.{j}.conv1/conv2/se_module/conv3``,
``conv5``), so its checkpoints only change recognizer-level prefixes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import nn

from action_core.api import ClsHead, Recognizer3D, WeightsInfo, compose_model

SEStyle = Literal["half", "all"]
WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]


def round_width(width: float, multiplier: float, *, min_width: int = 8, divisor: int = 8) -> int:
    """Scale a channel count and round it to a multiple of ``divisor`` (never below ``min_width``, never more
    than 10 % under the exact value): the rounding X3D uses for every width."""
    if not multiplier:
        return int(width)
    width *= multiplier
    rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


def x3d_feature_width(
    *, gamma_w: float = 1.0, gamma_b: float = 2.25, base_channels: int = 24, num_stages: int = 4
) -> int:
    """Channels of an ``X3D``'s ``conv5`` output (its ``feat_dim``), without building it: what a head on this
    backbone takes as ``in_channels``."""
    return int(round_width(base_channels, gamma_w) * 2 ** (num_stages - 1) * gamma_b)


def round_repeats(repeats: int, multiplier: float) -> int:
    """Scale a stage's block count by the depth factor, rounding up."""
    return repeats if not multiplier else int(math.ceil(multiplier * repeats))


class ConvNormAct(nn.Module):
    """Convolution without bias, optional BatchNorm3d and optional ReLU (MMAction2's ``ConvModule`` names:
    ``conv``, ``bn``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int, int],
        *,
        stride: int | tuple[int, int, int] = 1,
        padding: int | tuple[int, int, int] = 0,
        groups: int = 1,
        norm: bool = True,
        act: bool = True,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm3d(out_channels, eps=norm_eps) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class SqueezeExcitation3d(nn.Module):
    """Channel gating: global average pool, 1x1x1 reduce (to ``round_width(channels, ratio)``), ReLU, 1x1x1
    expand, sigmoid, multiply."""

    def __init__(self, channels: int, ratio: float) -> None:
        super().__init__()
        self.bottleneck = round_width(channels, ratio)
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.fc1 = nn.Conv3d(channels, self.bottleneck, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv3d(self.bottleneck, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.fc2(self.relu(self.fc1(self.avg_pool(x))))
        return x * torch.sigmoid(scale)


class BlockX3D(nn.Module):
    """Inverted bottleneck: 1x1x1 to ``planes`` (BN, ReLU), depthwise 3x3x3 with the spatial stride (BN),
    optional squeeze-excitation, swish, 1x1x1 to ``outplanes`` (BN), residual sum, ReLU."""

    def __init__(
        self,
        inplanes: int,
        planes: int,
        outplanes: int,
        *,
        spatial_stride: int = 1,
        downsample: nn.Module | None = None,
        se_ratio: float | None = None,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(inplanes, planes, 1, norm_eps=norm_eps)
        self.conv2 = ConvNormAct(
            planes,
            planes,
            3,
            stride=(1, spatial_stride, spatial_stride),
            padding=1,
            groups=planes,
            act=False,
            norm_eps=norm_eps,
        )
        self.se_module = SqueezeExcitation3d(planes, se_ratio) if se_ratio is not None else None
        self.swish = nn.SiLU()
        self.conv3 = ConvNormAct(planes, outplanes, 1, act=False, norm_eps=norm_eps)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv2(self.conv1(x))
        if self.se_module is not None:
            out = self.se_module(out)
        out = self.conv3(self.swish(out))
        return self.relu(out + identity)


class X3D(nn.Module):
    """X3D backbone on (N, C, T, H, W) clips; returns the ``conv5`` feature map (N, feat_dim, T, H/32, W/32).

    Args:
        gamma_w: global width factor (scales the base width 24).
        gamma_b: bottleneck width factor (inner width of each block, and of ``conv5``).
        gamma_d: depth factor (scales the block counts 1, 2, 5, 3, rounded up).
        in_channels: input channels (3 for RGB).
        base_channels: stem width before ``gamma_w`` (24 in X3D).
        stage_blocks: block counts before ``gamma_d``.
        num_stages: how many of the four stages to build.
        spatial_strides: per stage (the first block of a stage strides).
        se_style: squeeze-excitation on every other block (``"half"``) or on all (``"all"``).
        se_ratio: squeeze-excitation reduction; ``None`` disables it.
        strided_shortcut_norm: BatchNorm after a projection shortcut that only strides (stage 1, whose width
            does not change). MMAction2 has it; PyTorchVideo's ``create_x3d`` has none (``False``).
        frozen_stages: freeze the stem (0) and stages 1..k (k); -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode while training.
        norm_eps: BatchNorm epsilon.
        zero_init_residual: zero the last BatchNorm of every block at init.
    """

    def __init__(
        self,
        *,
        gamma_w: float = 1.0,
        gamma_b: float = 2.25,
        gamma_d: float = 2.2,
        in_channels: int = 3,
        base_channels: int = 24,
        stage_blocks: Sequence[int] = (1, 2, 5, 3),
        num_stages: int = 4,
        spatial_strides: Sequence[int] = (2, 2, 2, 2),
        se_style: SEStyle = "half",
        se_ratio: float | None = 1 / 16,
        strided_shortcut_norm: bool = True,
        frozen_stages: int = -1,
        norm_eval: bool = False,
        norm_eps: float = 1e-5,
        zero_init_residual: bool = True,
    ) -> None:
        super().__init__()
        if not 1 <= num_stages <= len(stage_blocks):
            raise ValueError(f"num_stages must be between 1 and {len(stage_blocks)}, got {num_stages!r}")
        if len(spatial_strides) < num_stages:
            raise ValueError(
                f"spatial_strides needs one entry per stage ({num_stages}), got {spatial_strides!r}"
            )
        if se_style not in ("half", "all"):
            raise ValueError(f"se_style must be 'half' or 'all', got {se_style!r}")
        if se_ratio is not None and se_ratio <= 0:
            raise ValueError(f"se_ratio must be positive or None, got {se_ratio!r}")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f"frozen_stages must be between -1 and {num_stages}, got {frozen_stages!r}")
        self.gamma_w, self.gamma_b, self.gamma_d = gamma_w, gamma_b, gamma_d
        self.base_channels = round_width(base_channels, gamma_w)
        self.stage_blocks = tuple(round_repeats(n, gamma_d) for n in stage_blocks)[:num_stages]
        self.num_stages = num_stages
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        base = self.base_channels
        self.conv1_s = ConvNormAct(
            in_channels, base, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), norm=False, act=False
        )
        self.conv1_t = ConvNormAct(base, base, (5, 1, 1), padding=(2, 0, 0), groups=base, norm_eps=norm_eps)

        self.res_layers: list[str] = []
        layer_inplanes = base
        for i, num_blocks in enumerate(self.stage_blocks):
            width = base * 2**i
            stride = spatial_strides[i]
            downsample = None
            if stride != 1 or layer_inplanes != width:
                downsample = ConvNormAct(
                    layer_inplanes,
                    width,
                    1,
                    stride=(1, stride, stride),
                    norm=strided_shortcut_norm or layer_inplanes != width,
                    act=False,
                    norm_eps=norm_eps,
                )
            blocks = [
                BlockX3D(
                    layer_inplanes if j == 0 else width,
                    int(width * gamma_b),
                    width,
                    spatial_stride=stride if j == 0 else 1,
                    downsample=downsample if j == 0 else None,
                    se_ratio=se_ratio if se_style == "all" or j % 2 == 0 else None,
                    norm_eps=norm_eps,
                )
                for j in range(num_blocks)
            ]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.res_layers.append(f"layer{i + 1}")
            layer_inplanes = width
        self.feat_dim = x3d_feature_width(
            gamma_w=gamma_w, gamma_b=gamma_b, base_channels=base_channels, num_stages=num_stages
        )
        self.conv5 = ConvNormAct(layer_inplanes, self.feat_dim, 1, norm_eps=norm_eps)
        self.reset_parameters(zero_init_residual=zero_init_residual)
        self._freeze_stages()

    def reset_parameters(self, *, zero_init_residual: bool = True) -> None:
        """Kaiming-normal convolutions (fan-out), unit BatchNorm; optionally zero each block's last norm."""
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if zero_init_residual:
            for module in self.modules():
                if isinstance(module, BlockX3D) and module.conv3.bn is not None:
                    nn.init.zeros_(module.conv3.bn.weight)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1_s, self.conv1_t] + [
            getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> X3D:
        """Switch train/eval mode, keeping frozen stages (and all BatchNorm when ``norm_eval``) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) clip to the ``conv5`` features."""
        x = self.conv1_t(self.conv1_s(x))
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return self.conv5(x)


class X3DHead(ClsHead):
    """X3D head (MMAction2's ``X3DHead``): spatiotemporal pool, ``fc1`` to ``mid_channels`` (no bias by
    default), ReLU, dropout, linear classifier ``fc_cls`` (MMAction2's ``fc2``).

    PyTorchVideo's X3D head computes the same: its ``post_conv`` is ``fc1``, its ``proj`` is ``fc_cls``
    (it then applies softmax, which ours leaves to the caller, as every head here returns logits).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        *,
        mid_channels: int = 2048,
        fc1_bias: bool = False,
        spatial_type: Literal["avg", "max"] = "avg",
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        loss: nn.Module | None = None,
        label_smoothing: float = 0.0,
    ) -> None:
        if spatial_type not in ("avg", "max"):
            raise ValueError(f"spatial_type must be 'avg' or 'max', got {spatial_type!r}")
        super().__init__(
            num_classes,
            mid_channels,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            loss=loss,
            label_smoothing=label_smoothing,
        )
        self.in_channels = in_channels
        self.mid_channels = mid_channels
        self.spatial_type = spatial_type
        self.pool = nn.AdaptiveAvgPool3d(1) if spatial_type == "avg" else nn.AdaptiveMaxPool3d(1)
        self.fc1 = nn.Linear(in_channels, mid_channels, bias=fc1_bias)
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self) -> None:
        """Normal(0, init_std) weights and zero biases for ``fc1`` and ``fc_cls``, as MMAction2."""
        super().init_weights()
        fc1 = getattr(self, "fc1", None)  # the base class initialises before fc1 exists
        if fc1 is not None:
            nn.init.normal_(fc1.weight, mean=0.0, std=self.init_std)
            if fc1.bias is not None:
                nn.init.zeros_(fc1.bias)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """Logits (N, num_classes) from (N, C, T, H, W) features; ``num_segs`` is ignored."""
        x = self.relu(self.fc1(self.pool(x).flatten(1)))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)


_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/x3d/facebook"
WEIGHTS: dict[str, WeightsInfo] = {
    "x3d_s_13x6x1_kinetics400_mmaction2": WeightsInfo(
        name="x3d_s_13x6x1_kinetics400_mmaction2",
        url=f"{_MM}/x3d_s_13x6x1_facebook-kinetics400-rgb_20201027-623825a0.pth",
        source="mmaction2",
        converter="mmaction2_x3d",
        meta={
            "num_params": 3_794_322,
            "categories": "kinetics400",
            "metrics": {"top1": 73.3},
            "config": "configs/recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py",
        },
    ),
    "x3d_m_16x5x1_kinetics400_mmaction2": WeightsInfo(
        name="x3d_m_16x5x1_kinetics400_mmaction2",
        url=f"{_MM}/x3d_m_16x5x1_facebook-kinetics400-rgb_20201027-3f42382a.pth",
        source="mmaction2",
        converter="mmaction2_x3d",
        meta={
            "num_params": 3_794_322,
            "categories": "kinetics400",
            "metrics": {"top1": 76.4},
            "config": "configs/recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py",
        },
    ),
}


#: The published checkpoints of each model (its registered ``weights`` catalogue).
X3D_S_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("x3d_s_")}
X3D_M_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("x3d_m_")}


def x3d_backbone(**kwargs: Any) -> X3D:
    """MMAction2's X3D configuration (``gamma_w=1, gamma_b=2.25, gamma_d=2.2``); keywords as ``X3D``."""
    return X3D(**kwargs)


def x3d_head(*, num_classes: int = 400, in_channels: int = 432, **kwargs: Any) -> X3DHead:
    """Registered builder of the X3D head (keywords as ``X3DHead``)."""
    return X3DHead(num_classes, in_channels, **kwargs)


def _x3d_parts(
    clip_len: int,
    *,
    num_classes: int,
    dropout_ratio: float,
    init_std: float,
    mid_channels: int,
    fc1_bias: bool,
    weights: WeightsSource | None,
    weights_backbone_only: bool,
    backbone_kwargs: dict[str, Any],
) -> dict[str, Any]:
    width_kwargs = ("gamma_w", "gamma_b", "base_channels", "num_stages")
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "clip_len": clip_len,  # the frame count the model was trained on (used by FLOPs and benchmarks)
        "backbone": {"type": "x3d", **backbone_kwargs},
        "head": {
            "type": "x3d_head",
            "num_classes": num_classes,
            "in_channels": x3d_feature_width(
                **{k: backbone_kwargs[k] for k in width_kwargs if k in backbone_kwargs}
            ),
            "mid_channels": mid_channels,
            "fc1_bias": fc1_bias,
            "dropout_ratio": dropout_ratio,
            "init_std": init_std,
            "loss": {"type": "cross_entropy"},
        },
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def x3d_s_parts(
    *,
    num_classes: int = 400,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    mid_channels: int = 2048,
    fc1_bias: bool = False,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``x3d_s`` composed of registered parts: backbone ``x3d`` (``backbone_kwargs`` go there) and head
    ``x3d_head``; ``clip_len`` 13. ``weights`` (a published name from ``WEIGHTS``, a path to an MMAction2
    checkpoint or a loaded one) are loaded by core's ``load_weights`` once it is built."""
    return _x3d_parts(
        13,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        mid_channels=mid_channels,
        fc1_bias=fc1_bias,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
        backbone_kwargs=backbone_kwargs,
    )


def x3d_m_parts(
    *,
    num_classes: int = 400,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    mid_channels: int = 2048,
    fc1_bias: bool = False,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``x3d_m`` composed of registered parts: the X3D-S description with ``clip_len`` 16; arguments as
    ``x3d_s_parts``."""
    return _x3d_parts(
        16,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        init_std=init_std,
        mid_channels=mid_channels,
        fc1_bias=fc1_bias,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
        backbone_kwargs=backbone_kwargs,
    )


def x3d_s(**kwargs: Any) -> Recognizer3D:
    """X3D-S recognizer; input (N, 3, 13, 160, 160) as trained (MMAction2 tests 13x182x182 crops), output
    logits (N, num_classes). Keyword arguments as ``x3d_s_parts`` (``num_classes=400, dropout_ratio=0.5,
    init_std=0.01, mid_channels=2048, fc1_bias=False, weights=None, weights_backbone_only=False,
    **backbone_kwargs``): ``backbone_kwargs`` go to ``X3D`` (``strided_shortcut_norm=False`` gives
    PyTorchVideo's ``x3d_s`` layout); ``weights``: a name in ``WEIGHTS``, a path to an MMAction2 checkpoint or a
    loaded one (loaded strictly)."""
    return compose_model(x3d_s_parts(**kwargs))


def x3d_m(**kwargs: Any) -> Recognizer3D:
    """X3D-M recognizer: the X3D-S network run on (N, 3, 16, 224, 224) clips (MMAction2 tests 16x256x256
    crops); keyword arguments as ``x3d_m_parts``."""
    return compose_model(x3d_m_parts(**kwargs))
