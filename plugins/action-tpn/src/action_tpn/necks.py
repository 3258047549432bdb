"""The temporal pyramid network neck (Yang et al., 2020), as MMAction2 1.2.0's ``TPN``.

Input: a tuple of clip feature maps (N, C_i, T, H_i, W_i) from several backbone stages, shallow to deep.
Each level is brought to the deepest level's channels and spatial size (spatial modulation), convolved and
max-pooled in time at its own rate (temporal modulation), then the levels are mixed top-down and bottom-up,
each flow fused across levels, and the two flows fused into one (N, out_channels, T', H, W) map.

Training also runs an auxiliary classifier on the second-deepest input level (MMAction2's ``AuxHead``,
loss weight 0.5). The neck keeps those logits from the last training forward in ``aux_logits``;
:meth:`TPN.aux_loss` turns them into the weighted loss, which core's ``Recognizer2D.loss`` adds to the
head's loss in training. Eval mode does not run the auxiliary head.

Module and parameter names follow MMAction2 (``temporal_modulation_ops``, ``level_fusion_1``, ...; a
conv-norm-activation block has ``conv`` and ``bn``) so checkpoints map almost one to one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from action_core.api import CrossEntropyLoss

__all__ = ["TPN", "AuxHead", "ConvBlock3d", "DownSample", "LevelFusion", "TemporalModulation", "tpn"]

Triple = tuple[int, int, int]
FlowType = Literal["cascade", "parallel"]

_GROUPS = 32  # grouped 1x1x1 / 3x1x1 convolutions of the reference implementation


def _triple(value: int | Sequence[int], name: str) -> Triple:
    out = (value,) * 3 if isinstance(value, int) else tuple(int(v) for v in value)
    if len(out) != 3 or min(out) < 1:
        raise ValueError(f"{name} must be a positive int or three positive ints, got {value!r}")
    return out  # type: ignore[return-value]


def _max_pool(scale: Triple) -> nn.Module:
    # A 1x1x1 max pool is the identity; skipping it saves a copy of the map and gives the same result.
    if scale == (1, 1, 1):
        return nn.Identity()
    return nn.MaxPool3d(scale, scale, (0, 0, 0), ceil_mode=True)


class ConvBlock3d(nn.Module):
    """Conv3d without bias, then optionally BatchNorm3d (``bn``) and ReLU (mmcv's ``ConvModule`` layout)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        *,
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        groups: int = 1,
        norm: bool = True,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv3d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm3d(out_channels) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class DownSample(nn.Module):
    """A convolution and a max pool (kernel = stride = ``scale``, ceil mode), pooling ``before`` or after."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        kernel_size: int | Sequence[int] = (3, 1, 1),
        padding: int | Sequence[int] = (1, 0, 0),
        groups: int = 1,
        norm: bool = False,
        act: bool = False,
        pool_before: bool = False,
        scale: int | Sequence[int] = (1, 2, 2),
    ) -> None:
        super().__init__()
        self.conv = ConvBlock3d(
            in_channels, out_channels, kernel_size, padding=padding, groups=groups, norm=norm, act=act
        )
        self.pool = _max_pool(_triple(scale, "scale"))
        self.pool_before = pool_before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool_before:
            return self.conv(self.pool(x))
        return self.pool(self.conv(x))


class LevelFusion(nn.Module):
    """Fuses the pyramid levels: each level through a grouped 1x1x1 conv-BN-ReLU (after an optional max
    pool), concatenated along channels, then a 1x1x1 conv-BN-ReLU to ``out_channels``."""

    def __init__(
        self,
        in_channels: Sequence[int],
        mid_channels: Sequence[int],
        out_channels: int,
        *,
        downsample_scales: Sequence[int | Sequence[int]],
    ) -> None:
        super().__init__()
        if not len(in_channels) == len(mid_channels) == len(downsample_scales):
            raise ValueError(
                f"LevelFusion needs one mid channel count and one downsample scale per level, got "
                f"{len(in_channels)} levels, mid_channels={tuple(mid_channels)}, "
                f"downsample_scales={tuple(downsample_scales)}"
            )
        self.downsamples = nn.ModuleList(
            DownSample(
                c_in,
                c_mid,
                kernel_size=1,
                padding=0,
                groups=_GROUPS,
                norm=True,
                act=True,
                pool_before=True,
                scale=scale,
            )
            for c_in, c_mid, scale in zip(in_channels, mid_channels, downsample_scales, strict=True)
        )
        self.fusion_conv = ConvBlock3d(sum(mid_channels), out_channels, 1)

    def forward(self, levels: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fusion_conv(torch.cat([d(x) for d, x in zip(self.downsamples, levels, strict=True)], 1))


def _spatial_modulation(in_channels: int, out_channels: int) -> nn.Module:
    """Stride-2 (1, 3, 3) conv-BN-ReLUs doubling the channels until they reach ``out_channels``."""
    if out_channels % in_channels or (out_channels // in_channels) & (out_channels // in_channels - 1):
        raise ValueError(
            f"spatial modulation doubles channels: {out_channels} must be {in_channels} times a power of two"
        )
    steps = (out_channels // in_channels).bit_length() - 1
    if steps == 0:
        return nn.Identity()
    return nn.Sequential(
        *(
            ConvBlock3d(
                in_channels * 2**k, in_channels * 2 ** (k + 1), (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)
            )
            for k in range(steps)
        )
    )


class TemporalModulation(nn.Module):
    """A grouped (3, 1, 1) convolution (no norm, no activation), then a max pool over ``scale`` frames."""

    def __init__(self, in_channels: int, out_channels: int, scale: int = 8) -> None:
        super().__init__()
        self.conv = ConvBlock3d(
            in_channels, out_channels, (3, 1, 1), padding=(1, 0, 0), groups=_GROUPS, norm=False, act=False
        )
        self.pool = _max_pool((scale, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class AuxHead(nn.Module):
    """Auxiliary classifier for training: stride-2 (1, 3, 3) conv-BN-ReLU doubling the channels, global
    average pool, dropout 0.5, linear; its loss is ``loss_weight`` x cross-entropy."""

    def __init__(
        self, in_channels: int, num_classes: int, *, loss_weight: float = 0.5, dropout_ratio: float = 0.5
    ) -> None:
        super().__init__()
        self.conv = ConvBlock3d(in_channels, in_channels * 2, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.dropout = nn.Dropout(p=dropout_ratio)
        self.fc = nn.Linear(in_channels * 2, num_classes)
        self.loss_fn = CrossEntropyLoss(loss_weight=loss_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes) of (N, C, T, H, W) features."""
        x = self.avg_pool(self.conv(x)).flatten(1)
        return self.fc(self.dropout(x))

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``loss_weight`` x cross-entropy of ``logits`` against ``target`` (indices or soft labels)."""
        return self.loss_fn(logits, target)


class TPN(nn.Module):
    """Temporal pyramid network neck. Defaults are MMAction2's TPN-TSM-R50 configuration.

    ``in_channels``: channels of the input levels (shallow to deep); ``channels``: width of each pyramid
    level after temporal modulation (MMAction2's ``out_channels``); ``temporal_scales``: the time pooling of
    each level; ``upsample_scale`` / ``downsample_scale``: the top-down (nearest upsampling) and bottom-up
    ((3, 1, 1) conv + max pool) steps between levels, None to leave that flow's mixing out;
    ``mid_channels`` / ``fusion_channels`` / ``fusion_downsample_scales``: the two level fusions;
    ``out_channels``: the final fusion's width (2048 in MMAction2, not configurable there);
    ``flow``: ``"cascade"`` (bottom-up runs on the top-down result) or ``"parallel"``;
    ``aux_classes``: classes of the auxiliary head on the second-deepest level (None: no auxiliary head).
    """

    def __init__(
        self,
        *,
        in_channels: Sequence[int] = (1024, 2048),
        channels: int = 1024,
        temporal_scales: Sequence[int] = (8, 8),
        upsample_scale: int | Sequence[int] | None = (1, 1, 1),
        downsample_scale: int | Sequence[int] | None = (1, 1, 1),
        mid_channels: Sequence[int] | None = None,
        fusion_channels: int = 2048,
        fusion_downsample_scales: Sequence[int | Sequence[int]] | None = None,
        out_channels: int = 2048,
        flow: FlowType = "cascade",
        aux_classes: int | None = None,
        aux_loss_weight: float = 0.5,
    ) -> None:
        super().__init__()
        in_channels = tuple(int(c) for c in in_channels)
        levels = len(in_channels)
        if levels < 2:
            raise ValueError(f"TPN needs at least two input levels, got in_channels={in_channels!r}")
        if len(temporal_scales) != levels:
            raise ValueError(
                f"temporal_scales needs one scale per level ({levels}), got {tuple(temporal_scales)!r}"
            )
        if flow not in ("cascade", "parallel"):
            raise ValueError(f"flow must be 'cascade' or 'parallel', got {flow!r}")
        for name, value in (("channels", channels), ("in_channels[-1]", in_channels[-1])):
            if value % _GROUPS:
                raise ValueError(f"{name}={value} must be a multiple of {_GROUPS} (grouped convolutions)")
        mid = tuple(mid_channels) if mid_channels is not None else (channels,) * levels
        fusion_scales = fusion_downsample_scales or ((1, 1, 1),) * levels
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.flow = flow

        # Every level is brought to the deepest level's width, which temporal modulation then takes.
        self.spatial_modulation = nn.ModuleList(_spatial_modulation(c, in_channels[-1]) for c in in_channels)
        self.temporal_modulation_ops = nn.ModuleList(
            TemporalModulation(in_channels[-1], channels, int(s)) for s in temporal_scales
        )
        self.upsample_scale = None if upsample_scale is None else _triple(upsample_scale, "upsample_scale")
        self.downsample_ops = nn.ModuleList()
        if downsample_scale is not None:
            scale = _triple(downsample_scale, "downsample_scale")
            self.downsample_ops.extend(DownSample(channels, channels, scale=scale) for _ in range(levels - 1))
        self.level_fusion_1 = LevelFusion(
            (channels,) * levels, mid, fusion_channels, downsample_scales=fusion_scales
        )
        self.level_fusion_2 = LevelFusion(
            (channels,) * levels, mid, fusion_channels, downsample_scales=fusion_scales
        )
        self.pyramid_fusion = ConvBlock3d(fusion_channels * 2, out_channels, 1)
        self.aux_head = (
            AuxHead(in_channels[-2], aux_classes, loss_weight=aux_loss_weight)
            if aux_classes is not None
            else None
        )
        self.aux_logits: torch.Tensor | None = None
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform convolutions, unit BatchNorm, N(0, 0.01) auxiliary classifier (as MMAction2)."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.xavier_uniform_(m.weight)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def _upsample(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample_scale == (1, 1, 1):
            return x
        return nn.functional.interpolate(x, scale_factor=self.upsample_scale, mode="nearest")

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Fused (N, out_channels, T', H, W) map of the levels (N, C_i, T, H_i, W_i), shallow to deep."""
        feats = tuple(feats)
        if len(feats) != len(self.in_channels) or any(f.ndim != 5 for f in feats):
            raise ValueError(
                f"TPN expects {len(self.in_channels)} clip feature maps (N, C, T, H, W) with channels "
                f"{self.in_channels}, got shapes {[tuple(f.shape) for f in feats]}"
            )
        if self.training and self.aux_head is not None:
            self.aux_logits = self.aux_head(feats[-2])
        spatial = [m(f) for m, f in zip(self.spatial_modulation, feats, strict=True)]
        temporal = [m(f) for m, f in zip(self.temporal_modulation_ops, spatial, strict=True)]

        outs = list(temporal)
        if self.upsample_scale is not None:
            for i in range(len(outs) - 1, 0, -1):
                outs[i - 1] = outs[i - 1] + self._upsample(outs[i])
        top_down = self.level_fusion_1(outs)

        if self.flow == "parallel":
            outs = list(temporal)
        for i, down in enumerate(self.downsample_ops):
            outs[i + 1] = outs[i + 1] + down(outs[i])
        bottom_up = self.level_fusion_2(outs)
        return self.pyramid_fusion(torch.cat([top_down, bottom_up], 1))

    def aux_loss(self, target: torch.Tensor) -> torch.Tensor | None:
        """The weighted auxiliary loss of the last training forward against ``target`` (None when the neck
        has no auxiliary head or ran no training forward since). The kept logits are released."""
        logits, self.aux_logits = self.aux_logits, None
        if logits is None or self.aux_head is None:
            return None
        return self.aux_head.loss(logits.float(), target)

    def train(self, mode: bool = True) -> TPN:
        """Switch mode; leaving training drops auxiliary logits a loss never consumed."""
        if not mode:
            self.aux_logits = None
        return super().train(mode)


def tpn(**kwargs: Any) -> TPN:
    """Keyword-only builder of :class:`TPN` (the registry form); arguments as :class:`TPN`."""
    return TPN(**kwargs)
