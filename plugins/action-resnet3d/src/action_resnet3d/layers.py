"""Small building blocks shared by the 3D ResNet family: conv-norm-activation units and non-local blocks.

Module attribute names (``conv``, ``bn``, ``g``, ``theta``, ``phi``, ``conv_out``) follow MMAction2's so that its
checkpoints map onto ours key for key; the converters only rename the recognizer-level prefixes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

Triple = tuple[int, int, int]
ConvFactory = Callable[..., nn.Module]


def triple(value: int | tuple[int, ...]) -> Triple:
    """Expand an int to a (t, h, w) triple; pass a 3-tuple through (validated)."""
    if isinstance(value, int):
        return (value, value, value)
    if len(value) != 3:
        raise ValueError(f"expected an int or a (t, h, w) triple, got {value!r}")
    return (int(value[0]), int(value[1]), int(value[2]))


def conv3d(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, ...],
    *,
    stride: int | tuple[int, ...] = 1,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    bias: bool = False,
) -> nn.Module:
    """The default convolution of the family: a plain ``nn.Conv3d``."""
    return nn.Conv3d(
        in_channels,
        out_channels,
        triple(kernel_size),
        stride=triple(stride),
        padding=triple(padding),
        dilation=triple(dilation),
        bias=bias,
    )


class ConvBNAct(nn.Module):
    """Convolution, optional BatchNorm3d and optional ReLU, applied in that order.

    ``conv_layer`` builds the convolution (``conv3d`` by default; R(2+1)D passes its factorised conv).
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
        norm: bool = True,
        act: bool = True,
        bias: bool | None = None,
        norm_eps: float = 1e-5,
        conv_layer: ConvFactory = conv3d,
    ) -> None:
        super().__init__()
        self.conv = conv_layer(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=(not norm) if bias is None else bias,
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


NonLocalMode = Literal["embedded_gaussian", "dot_product"]


class NonLocal3d(nn.Module):
    """Non-local block (Wang et al. 2018) on (N, C, T, H, W) features, residual form ``x + W_z(y)``.

    ``mode="embedded_gaussian"`` normalises the pairwise affinities with a softmax (optionally scaled by
    1/sqrt(C')), ``"dot_product"`` divides them by the number of positions. ``sub_sample`` max-pools the key and
    value maps 2x spatially. The output projection ends with BatchNorm initialised to zero, so a freshly added
    block is the identity.
    """

    def __init__(
        self,
        in_channels: int,
        *,
        reduction: int = 2,
        mode: NonLocalMode = "embedded_gaussian",
        use_scale: bool = True,
        sub_sample: bool = False,
        norm: bool = True,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if mode not in ("embedded_gaussian", "dot_product"):
            raise ValueError(f"non-local mode must be 'embedded_gaussian' or 'dot_product', got {mode!r}")
        self.mode = mode
        self.use_scale = use_scale
        self.inter_channels = max(in_channels // reduction, 1)
        inter = self.inter_channels
        self.theta = ConvBNAct(in_channels, inter, 1, norm=False, act=False)
        g: nn.Module = ConvBNAct(in_channels, inter, 1, norm=False, act=False)
        phi: nn.Module = ConvBNAct(in_channels, inter, 1, norm=False, act=False)
        if sub_sample:
            g = nn.Sequential(g, nn.MaxPool3d(kernel_size=(1, 2, 2)))
            phi = nn.Sequential(phi, nn.MaxPool3d(kernel_size=(1, 2, 2)))
        self.g = g
        self.phi = phi
        self.conv_out = ConvBNAct(inter, in_channels, 1, norm=norm, act=False, norm_eps=norm_eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Small normal init of the projections; zero the output so the block starts as the identity."""
        for module in (self.g, self.theta, self.phi):
            for conv in module.modules():
                if isinstance(conv, nn.Conv3d):
                    nn.init.normal_(conv.weight, std=0.01)
                    if conv.bias is not None:
                        nn.init.zeros_(conv.bias)
        if self.conv_out.bn is not None:
            nn.init.zeros_(self.conv_out.bn.weight)
            nn.init.zeros_(self.conv_out.bn.bias)
        else:
            nn.init.zeros_(self.conv_out.conv.weight)
            if self.conv_out.conv.bias is not None:
                nn.init.zeros_(self.conv_out.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        inter = self.inter_channels
        value = self.g(x).reshape(n, inter, -1).transpose(1, 2)  # (N, P', C')
        query = self.theta(x).reshape(n, inter, -1).transpose(1, 2)  # (N, P, C')
        key = self.phi(x).reshape(n, inter, -1)  # (N, C', P')
        affinity = torch.matmul(query, key)  # (N, P, P')
        if self.mode == "embedded_gaussian":
            if self.use_scale:
                affinity = affinity / inter**0.5
            affinity = affinity.softmax(dim=-1)
        else:
            affinity = affinity / affinity.shape[-1]
        y = torch.matmul(affinity, value).transpose(1, 2).reshape(n, inter, *x.shape[2:])
        return x + self.conv_out(y)
