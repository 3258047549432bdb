"""TSM backbones: a 2D ResNet (or MobileNetV2) with temporal shift and optional temporal pooling.

Shifting never adds a module level, so parameter names stay torchvision's and ImageNet weights load as-is.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from torchvision.models.mobilenetv2 import InvertedResidual, MobileNetV2

from action_tsn.backbones import ResNet2d
from action_tsn.pretrained import load_imagenet

from .shift import TemporalShiftConv2d, temporal_max_pool, temporal_shift

__all__ = ["MobileNetV2TSM", "ResNetTSM", "ShiftPlace", "mobilenetv2_tsm", "resnet_tsm"]

ShiftPlace = Literal["blockres", "residual", "block"]


class ResNetTSM(ResNet2d):
    """ResNet with temporal shift (MMAction2's ``ResNetTSM`` semantics).

    ``shift_place``: ``"blockres"`` (alias ``"residual"``) shifts inside the residual branch, before the
    first conv of each block (every second block when a stage has >= 23 blocks, i.e. ResNet-101's
    layer3 and deeper, as the reference implementation does); ``"block"`` shifts the input of every block
    (both branches). ``temporal_pool`` max-pools time by 2 after ``layer1``, so later stages see half
    the segments. ``is_shift=False`` gives a plain ResNet (TSN).
    """

    def __init__(
        self,
        depth: int = 50,
        *,
        num_segments: int = 8,
        shift_div: int = 8,
        shift_place: ShiftPlace = "blockres",
        temporal_pool: bool = False,
        is_shift: bool = True,
        norm_eval: bool = False,
        frozen_stages: int = -1,
    ) -> None:
        super().__init__(depth, norm_eval=norm_eval, frozen_stages=frozen_stages)
        if shift_place not in ("blockres", "residual", "block"):
            raise ValueError(f"shift_place must be 'blockres', 'residual' or 'block', got {shift_place!r}")
        if shift_div < 1:
            raise ValueError(f"shift_div must be >= 1, got {shift_div!r}")
        if num_segments < (2 if temporal_pool else 1):
            raise ValueError(f"num_segments={num_segments} is too small (temporal_pool={temporal_pool})")
        self.num_segments = num_segments
        self.shift_div = shift_div
        self.shift_place = "blockres" if shift_place == "residual" else shift_place
        self.temporal_pool = temporal_pool
        self.is_shift = is_shift
        later = num_segments // 2 if temporal_pool else num_segments
        self.stage_segments = (num_segments, later, later, later)
        if is_shift and self.shift_place == "blockres":
            every = 2 if len(self.layer3) >= 23 else 1
            for stage, segs in zip(self.stages(), self.stage_segments, strict=True):
                for i, block in enumerate(stage):
                    if i % every == 0:
                        block.conv1 = TemporalShiftConv2d.from_conv(
                            block.conv1, num_segments=segs, shift_div=shift_div
                        )

    def stages(self) -> tuple[nn.Sequential, ...]:
        """layer1 ... layer4."""
        return (self.layer1, self.layer2, self.layer3, self.layer4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map (N * T', C, H/32, W/32) of (N * num_segments, 3, H, W) frames (T' halved by pooling)."""
        x = self.stem(x)
        shift_blocks = self.is_shift and self.shift_place == "block"
        for index, (stage, segs) in enumerate(zip(self.stages(), self.stage_segments, strict=True)):
            if index == 1 and self.temporal_pool:
                x = temporal_max_pool(x, self.num_segments)
            if shift_blocks:
                for block in stage:
                    x = block(temporal_shift(x, segs, self.shift_div))
            else:
                x = stage(x)
        return x


class MobileNetV2TSM(nn.Module):
    """torchvision's MobileNetV2 features with temporal shift on the expansion conv of every residual block
    (MMAction2's ``MobileNetV2TSM``). Returns the 1280-channel feature map."""

    def __init__(self, *, num_segments: int = 8, shift_div: int = 8, is_shift: bool = True) -> None:
        super().__init__()
        self.features = MobileNetV2().features
        self.num_segments = num_segments
        self.shift_div = shift_div
        self.out_channels = 1280
        if is_shift:
            for block in self.features:
                if isinstance(block, InvertedResidual) and block.use_res_connect and len(block.conv) == 4:
                    expand = block.conv[0][0]
                    block.conv[0][0] = TemporalShiftConv2d.from_conv(
                        expand, num_segments=num_segments, shift_div=shift_div
                    )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map (N * T, 1280, H/32, W/32)."""
        return self.features(x)


def resnet_tsm(*, depth: int = 50, pretrained: bool | str = False, **kwargs: Any) -> ResNetTSM:
    """Keyword-only builder of :class:`ResNetTSM` (the registry form); ``pretrained`` = ImageNet weights."""
    backbone = ResNetTSM(depth, **kwargs)
    if pretrained:
        load_imagenet(backbone, f"resnet{depth}", pretrained)
    return backbone


def mobilenetv2_tsm(*, pretrained: bool | str = False, **kwargs: Any) -> MobileNetV2TSM:
    """Keyword-only builder of :class:`MobileNetV2TSM`; ``pretrained`` = torchvision ImageNet weights."""
    backbone = MobileNetV2TSM(**kwargs)
    if pretrained:
        load_imagenet(backbone, "mobilenet_v2", pretrained, classifier="classifier.")
    return backbone
