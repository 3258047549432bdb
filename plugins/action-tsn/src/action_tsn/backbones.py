"""2D ResNet backbones for frame-level recognizers, built on torchvision's ResNet.

The module tree (``conv1``, ``bn1``, ``layer1`` ... ``layer4``) is torchvision's, so ImageNet weights from
torchvision load unchanged; the classifier (``fc``) and global pool are removed: the backbone returns the
last feature map (N, C, H/32, W/32) and the recognizer's head pools it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from .partial_bn import apply_partial_bn
from .pretrained import load_imagenet

__all__ = ["RESNET_LAYERS", "ResNet2d", "resnet2d", "resnet_channels"]

RESNET_LAYERS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


def resnet_channels(depth: int) -> int:
    """Channels of a ResNet-``depth``'s last feature map, without building it (a head's ``in_channels``)."""
    if depth not in RESNET_LAYERS:
        raise ValueError(f"unsupported ResNet depth {depth!r}; choose one of {sorted(RESNET_LAYERS)}")
    return 512 * RESNET_LAYERS[depth][0].expansion


class ResNet2d(ResNet):
    """A torchvision ResNet without its classifier, returning the ``layer4`` feature map.

    ``norm_eval`` keeps every BatchNorm in eval mode during training (frozen statistics);
    ``frozen_stages`` = k freezes the stem and the first k stages (-1: nothing frozen), as in MMAction2.
    """

    def __init__(self, depth: int = 50, *, norm_eval: bool = False, frozen_stages: int = -1) -> None:
        if depth not in RESNET_LAYERS:
            raise ValueError(f"unsupported ResNet depth {depth!r}; choose one of {sorted(RESNET_LAYERS)}")
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f"frozen_stages must be in [-1, 4], got {frozen_stages!r}")
        block, layers = RESNET_LAYERS[depth]
        super().__init__(block, list(layers))
        del self.fc, self.avgpool
        self.depth = depth
        self.out_channels = 512 * block.expansion
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self._freeze_stages()

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """conv1, bn1, relu, maxpool."""
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Feature map (N, out_channels, H/32, W/32) of (N, 3, H, W) frames."""
        x = self.stem(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen: list[nn.Module] = [self.conv1, self.bn1]
        frozen += [getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)]
        for module in frozen:
            module.eval()
            for p in module.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> ResNet2d:
        """Switch mode, keeping frozen stages and (with ``norm_eval``) BatchNorm layers in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def resnet2d(
    *, depth: int = 50, pretrained: bool | str = False, partial_bn: bool = False, **kwargs: Any
) -> ResNet2d:
    """Keyword-only builder of :class:`ResNet2d` (the registry form).

    ``pretrained``: ImageNet weights (True = torchvision ``IMAGENET1K_V1``, a torchvision weights name, or a
    path). ``partial_bn`` fixes every BatchNorm but the first (MMAction2's ``partial_bn``, TSN's training
    trick; :mod:`action_tsn.partial_bn`). Other arguments as :class:`ResNet2d`.
    """
    backbone = ResNet2d(depth, **kwargs)
    if pretrained:
        load_imagenet(backbone, f"resnet{depth}", pretrained)
    if partial_bn:
        apply_partial_bn(backbone)
    return backbone
