"""The 3D ResNet backbone behind I3D, SlowOnly, SlowFast and R(2+1)D.

It exposes the knobs MMAction2's ``ResNet3d`` has (per-stage and per-block temporal inflation, stem kernel and
strides, temporal strides, the extra temporal pool after stage 1, frozen stages, BatchNorm in eval mode,
non-local blocks) and uses the same module names, so an MMAction2 backbone state dict loads without renaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from action_resnet3d.layers import ConvBNAct, ConvFactory, NonLocal3d, conv3d, triple

InflateStyle = Literal["3x1x1", "3x3x3"]
BlockStyle = Literal["pytorch", "caffe"]


class BasicBlock3d(nn.Module):
    """Two 3x3 convolutions (3x3x3 when inflated, 1x3x3 otherwise) with a residual connection."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        *,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: BlockStyle = "pytorch",
        inflate: bool = True,
        inflate_style: InflateStyle = "3x1x1",
        non_local: dict | None = None,
        norm_eps: float = 1e-5,
        conv_layer: ConvFactory = conv3d,
    ) -> None:
        super().__init__()
        kt, pt = (3, 1) if inflate else (1, 0)
        common = {"norm_eps": norm_eps, "conv_layer": conv_layer}
        self.conv1 = ConvBNAct(
            inplanes,
            planes,
            (kt, 3, 3),
            stride=(temporal_stride, spatial_stride, spatial_stride),
            padding=(pt, dilation, dilation),
            dilation=(1, dilation, dilation),
            **common,
        )
        self.conv2 = ConvBNAct(planes, planes, (kt, 3, 3), padding=(pt, 1, 1), act=False, **common)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.non_local_block = NonLocal3d(planes, **non_local) if non_local is not None else None

    def last_norm(self) -> nn.BatchNorm3d | None:
        """The BatchNorm closing the residual branch (zeroed by ``zero_init_residual``)."""
        return self.conv2.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.conv2(self.conv1(x)) + identity)
        if self.non_local_block is not None:
            out = self.non_local_block(out)
        return out


class Bottleneck3d(nn.Module):
    """1x1 reduce, 3x3 and 1x1 expand convolutions; the temporal kernel sits in the first (``"3x1x1"``) or the
    second (``"3x3x3"``) convolution when the block is inflated. ``style="pytorch"`` strides in the 3x3 conv,
    ``"caffe"`` in the first 1x1."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        *,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
        style: BlockStyle = "pytorch",
        inflate: bool = True,
        inflate_style: InflateStyle = "3x1x1",
        non_local: dict | None = None,
        norm_eps: float = 1e-5,
        conv_layer: ConvFactory = conv3d,
    ) -> None:
        super().__init__()
        if style not in ("pytorch", "caffe"):
            raise ValueError(f"block style must be 'pytorch' or 'caffe', got {style!r}")
        if inflate_style not in ("3x1x1", "3x3x3"):
            raise ValueError(f"inflate_style must be '3x1x1' or '3x3x3', got {inflate_style!r}")
        if style == "pytorch":
            stride1, stride2 = (1, 1, 1), (temporal_stride, spatial_stride, spatial_stride)
        else:
            stride1, stride2 = (temporal_stride, spatial_stride, spatial_stride), (1, 1, 1)
        k1, p1 = (1, 1, 1), (0, 0, 0)
        k2, p2 = (1, 3, 3), (0, dilation, dilation)
        if inflate and inflate_style == "3x1x1":
            k1, p1 = (3, 1, 1), (1, 0, 0)
        elif inflate:
            k2, p2 = (3, 3, 3), (1, dilation, dilation)
        common = {"norm_eps": norm_eps, "conv_layer": conv_layer}
        self.conv1 = ConvBNAct(inplanes, planes, k1, stride=stride1, padding=p1, **common)
        self.conv2 = ConvBNAct(
            planes, planes, k2, stride=stride2, padding=p2, dilation=(1, dilation, dilation), **common
        )
        self.conv3 = ConvBNAct(planes, planes * self.expansion, 1, act=False, **common)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.non_local_block = (
            NonLocal3d(planes * self.expansion, **non_local) if non_local is not None else None
        )

    def last_norm(self) -> nn.BatchNorm3d | None:
        """The BatchNorm closing the residual branch (zeroed by ``zero_init_residual``)."""
        return self.conv3.bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)
        if self.non_local_block is not None:
            out = self.non_local_block(out)
        return out


ARCH_SETTINGS: dict[int, tuple[type[BasicBlock3d] | type[Bottleneck3d], tuple[int, ...]]] = {
    18: (BasicBlock3d, (2, 2, 2, 2)),
    34: (BasicBlock3d, (3, 4, 6, 3)),
    50: (Bottleneck3d, (3, 4, 6, 3)),
    101: (Bottleneck3d, (3, 4, 23, 3)),
    152: (Bottleneck3d, (3, 8, 36, 3)),
}

PerStage = int | Sequence[int] | Sequence[Sequence[int]]


def feature_width(depth: int, *, base_channels: int = 64, num_stages: int = 4) -> int:
    """Channels of the last stage's output of a ``ResNet3d`` (its ``feat_dim``), without building it: what a
    head on this backbone takes as ``in_channels``."""
    if depth not in ARCH_SETTINGS:
        raise ValueError(f"ResNet3d depth must be one of {sorted(ARCH_SETTINGS)}, got {depth!r}")
    return ARCH_SETTINGS[depth][0].expansion * base_channels * 2 ** (num_stages - 1)


def _per_block(value: int | Sequence[int], num_blocks: int, field: str, stage: int) -> list[int]:
    if isinstance(value, int):
        return [value] * num_blocks
    values = [int(v) for v in value]
    if len(values) != num_blocks:
        raise ValueError(
            f"{field}[{stage}] has {len(values)} entries but stage {stage + 1} has {num_blocks} blocks; "
            "give one 0/1 flag per block or a single int for the whole stage"
        )
    return values


def _per_stage(value: PerStage, num_stages: int, field: str) -> list:
    if isinstance(value, int):
        return [value] * num_stages
    values = list(value)
    if len(values) != num_stages:
        raise ValueError(f"{field} needs one entry per stage ({num_stages}), got {value!r}")
    return values


class ResNet3d(nn.Module):
    """3D ResNet on (N, C, T, H, W) clips.

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input channels (3 for RGB).
        base_channels: width of the stem and of stage 1 (64 for the standard nets, 8 for a SlowFast fast path).
        num_stages: how many residual stages to build (1-4).
        out_indices: stages whose outputs are returned (a single index gives a tensor, several a tuple).
        spatial_strides, temporal_strides, dilations: per stage.
        conv1_kernel, conv1_stride_s, conv1_stride_t: the stem convolution.
        pool1_stride_s, pool1_stride_t, with_pool1: the stem max-pool (kernel 1x3x3).
        with_pool2: a 2x1x1 temporal max-pool after stage 1 (I3D).
        style: where bottlenecks stride ("pytorch": the 3x3 conv, "caffe": the first 1x1).
        inflate: per stage, 0/1 for the whole stage or one 0/1 flag per block: whether a block gets a temporal
            kernel of size 3.
        inflate_style: "3x1x1" (temporal kernel in the bottleneck's first conv) or "3x3x3" (in its 3x3 conv).
        non_local: per stage, 0/1 or per-block flags: which blocks are followed by a non-local block.
        non_local_cfg: keyword arguments of ``NonLocal3d`` (mode, sub_sample, use_scale, reduction).
        frozen_stages: freeze the stem (0) and stages 1..k (k); -1 freezes nothing.
        norm_eval: keep BatchNorm layers in eval mode (frozen running statistics) while training.
        norm_eps: BatchNorm epsilon (1e-5; MMAction2's R(2+1)D uses 1e-3).
        zero_init_residual: zero the last BatchNorm of each block at init.
        conv_layer: factory for convolutions (``conv3d``; R(2+1)D passes its factorised one).
        lateral_inplanes: extra input channels per stage, concatenated by a SlowFast lateral connection.
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        in_channels: int = 3,
        base_channels: int = 64,
        num_stages: int = 4,
        out_indices: Sequence[int] = (3,),
        spatial_strides: Sequence[int] = (1, 2, 2, 2),
        temporal_strides: Sequence[int] = (1, 1, 1, 1),
        dilations: Sequence[int] = (1, 1, 1, 1),
        conv1_kernel: int | Sequence[int] = (3, 7, 7),
        conv1_stride_s: int = 2,
        conv1_stride_t: int = 1,
        pool1_stride_s: int = 2,
        pool1_stride_t: int = 1,
        with_pool1: bool = True,
        with_pool2: bool = True,
        style: BlockStyle = "pytorch",
        inflate: PerStage = (1, 1, 1, 1),
        inflate_style: InflateStyle = "3x1x1",
        non_local: PerStage = (0, 0, 0, 0),
        non_local_cfg: dict | None = None,
        frozen_stages: int = -1,
        norm_eval: bool = False,
        norm_eps: float = 1e-5,
        zero_init_residual: bool = True,
        conv_layer: ConvFactory = conv3d,
        lateral_inplanes: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if depth not in ARCH_SETTINGS:
            raise ValueError(f"ResNet3d depth must be one of {sorted(ARCH_SETTINGS)}, got {depth!r}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"num_stages must be between 1 and 4, got {num_stages!r}")
        if any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f"out_indices {tuple(out_indices)!r} must lie in [0, {num_stages})")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f"frozen_stages must be between -1 and {num_stages}, got {frozen_stages!r}")
        block, stage_blocks = ARCH_SETTINGS[depth]
        stage_blocks = stage_blocks[:num_stages]
        self.depth = depth
        self.block = block
        self.stage_blocks = stage_blocks
        self.num_stages = num_stages
        self.out_indices = tuple(out_indices)
        self.with_pool1 = with_pool1
        self.with_pool2 = with_pool2
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.base_channels = base_channels
        self.conv1_kernel = triple(tuple(conv1_kernel) if not isinstance(conv1_kernel, int) else conv1_kernel)

        inflates = _per_stage(inflate, num_stages, "inflate")
        non_locals = _per_stage(non_local, num_stages, "non_local")
        spatial_strides = _per_stage(spatial_strides, num_stages, "spatial_strides")
        temporal_strides = _per_stage(temporal_strides, num_stages, "temporal_strides")
        dilations = _per_stage(dilations, num_stages, "dilations")
        laterals = _per_stage(lateral_inplanes if lateral_inplanes is not None else 0, num_stages, "lateral")

        self.conv1 = ConvBNAct(
            in_channels,
            base_channels,
            self.conv1_kernel,
            stride=(conv1_stride_t, conv1_stride_s, conv1_stride_s),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            norm_eps=norm_eps,
            conv_layer=conv_layer,
        )
        self.maxpool = nn.MaxPool3d(
            kernel_size=(1, 3, 3), stride=(pool1_stride_t, pool1_stride_s, pool1_stride_s), padding=(0, 1, 1)
        )
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1))

        self.res_layers: list[str] = []
        inplanes = base_channels
        for i, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2**i
            layer = self._make_stage(
                inplanes + laterals[i],
                planes,
                num_blocks,
                stage=i,
                spatial_stride=spatial_strides[i],
                temporal_stride=temporal_strides[i],
                dilation=dilations[i],
                style=style,
                inflate=_per_block(inflates[i], num_blocks, "inflate", i),
                inflate_style=inflate_style,
                non_local=_per_block(non_locals[i], num_blocks, "non_local", i),
                non_local_cfg=non_local_cfg or {},
                norm_eps=norm_eps,
                conv_layer=conv_layer,
            )
            inplanes = planes * block.expansion
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
        self.feat_dim = feature_width(depth, base_channels=base_channels, num_stages=num_stages)
        self.reset_parameters(zero_init_residual=zero_init_residual)
        self._freeze_stages()

    def _make_stage(
        self,
        inplanes: int,
        planes: int,
        num_blocks: int,
        *,
        stage: int,
        spatial_stride: int,
        temporal_stride: int,
        dilation: int,
        style: BlockStyle,
        inflate: list[int],
        inflate_style: InflateStyle,
        non_local: list[int],
        non_local_cfg: dict,
        norm_eps: float,
        conv_layer: ConvFactory,
    ) -> nn.Sequential:
        out_planes = planes * self.block.expansion
        downsample = None
        # As in MMAction2, only a spatial stride or a width change adds a projection shortcut.
        if spatial_stride != 1 or inplanes != out_planes:
            downsample = ConvBNAct(
                inplanes,
                out_planes,
                1,
                stride=(temporal_stride, spatial_stride, spatial_stride),
                act=False,
                norm_eps=norm_eps,
                conv_layer=conv_layer,
            )
        blocks = []
        for j in range(num_blocks):
            first = j == 0
            blocks.append(
                self.block(
                    inplanes if first else out_planes,
                    planes,
                    spatial_stride=spatial_stride if first else 1,
                    temporal_stride=temporal_stride if first else 1,
                    dilation=dilation,
                    downsample=downsample if first else None,
                    style=style,
                    inflate=inflate[j] == 1,
                    inflate_style=inflate_style,
                    non_local=dict(non_local_cfg) if non_local[j] == 1 else None,
                    norm_eps=norm_eps,
                    conv_layer=conv_layer,
                )
            )
        return nn.Sequential(*blocks)

    def reset_parameters(self, *, zero_init_residual: bool = True) -> None:
        """Kaiming-normal convolutions (fan-out), unit BatchNorm; optionally zero each block's last norm."""
        for module in self.modules():
            if isinstance(module, NonLocal3d):
                continue
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():
            if isinstance(module, NonLocal3d):
                module.reset_parameters()
            elif zero_init_residual and isinstance(module, (BasicBlock3d, Bottleneck3d)):
                norm = module.last_norm()
                if norm is not None:
                    nn.init.zeros_(norm.weight)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1] + [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> ResNet3d:
        """Switch train/eval mode, keeping frozen stages (and all BatchNorm when ``norm_eval``) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """Stem convolution and (when enabled) its max-pool."""
        x = self.conv1(x)
        return self.maxpool(x) if self.with_pool1 else x

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """(N, C, T, H, W) clip to the feature map(s) of the stages in ``out_indices``."""
        x = self.forward_stem(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)


def resnet3d_backbone(*, depth: int = 50, pretrained: bool | str = False, **kwargs: object) -> ResNet3d:
    """Build a ``ResNet3d`` (keyword arguments as the class); ``pretrained`` inflates ImageNet 2D weights:
    ``True`` for torchvision's, or a path to a torchvision-format ResNet state dict. What was and was not
    inflated is kept in ``model.inflation_report``."""
    model = ResNet3d(depth, **kwargs)  # type: ignore[arg-type]
    if pretrained:
        from action_resnet3d.inflate import inflate_resnet2d_weights, load_resnet2d_state_dict

        model.inflation_report = inflate_resnet2d_weights(model, load_resnet2d_state_dict(depth, pretrained))
    return model
