"""C3D (Tran et al. 2015) in MMAction2's form: eight 3x3x3 convolutions with bias and ReLU, five max-pools
(the first spatial only, the last padded spatially), flatten, two 4096-wide fully connected layers with ReLU
and dropout between them; the classifier is an I3D-style head without pooling (dropout, linear).

Module names follow MMAction2 (``conv1a`` ... ``conv5b``, ``fc6``, ``fc7``), so its checkpoints only change the
classifier's prefix (``cls_head.fc_cls`` -> ``head.fc_cls``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from action_core.api import (
    CheckpointMismatchError,
    I3DHead,
    Recognizer3D,
    WeightsInfo,
    compose_model,
    load_weights,
)

WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]

# (name, which of the five widths it outputs), in order; each reads the previous one's output
_CONVS = (
    ("conv1a", 0),
    ("conv2a", 1),
    ("conv3a", 2),
    ("conv3b", 2),
    ("conv4a", 3),
    ("conv4b", 3),
    ("conv5a", 4),
    ("conv5b", 4),
)


class ConvReLU(nn.Module):
    """A 3x3x3 convolution (padding 1, with bias) and ReLU (MMAction2's ``ConvModule`` name ``conv``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, 3, padding=1, bias=True)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class C3D(nn.Module):
    """C3D backbone on (N, C, 16, 112, 112) clips; returns the ``fc7`` features (N, ``fc_channels``).

    Args:
        in_channels: input channels (3 for RGB).
        widths: output widths of conv1, conv2, conv3, conv4 and conv5 (two layers each from conv3 on).
        out_dim: length of the flattened ``pool5`` output, fixed by the input size: 8192 = 512 x 1 x 4 x 4
            for 16x112x112 clips.
        fc_channels: width of ``fc6`` and ``fc7``.
        fc_dropout_ratio: dropout between ``fc6`` and ``fc7`` (MMAction2's backbone ``dropout_ratio``).
        fc_init_std: standard deviation of ``fc6``/``fc7``'s initial weights (MMAction2's backbone
            ``init_std``).
    """

    def __init__(
        self,
        *,
        in_channels: int = 3,
        widths: Sequence[int] = (64, 128, 256, 512, 512),
        out_dim: int = 8192,
        fc_channels: int = 4096,
        fc_dropout_ratio: float = 0.5,
        fc_init_std: float = 0.005,
    ) -> None:
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"widths needs the five widths of conv1..conv5, got {tuple(widths)!r}")
        channels = in_channels
        for name, index in _CONVS:
            self.add_module(name, ConvReLU(channels, widths[index]))
            channels = widths[index]
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool3 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool4 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, padding=(0, 1, 1))
        self.out_dim = out_dim
        self.fc6 = nn.Linear(out_dim, fc_channels)
        self.fc7 = nn.Linear(fc_channels, fc_channels)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=fc_dropout_ratio)
        self.feat_dim = fc_channels
        self.reset_parameters(fc_init_std=fc_init_std)

    def reset_parameters(self, *, fc_init_std: float = 0.005) -> None:
        """Kaiming-normal convolutions (fan-out) with zero bias, Normal(0, ``fc_init_std``) linear layers."""
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=fc_init_std)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) clip to ``fc7`` features (N, fc_channels)."""
        x = self.pool1(self.conv1a(x))
        x = self.pool2(self.conv2a(x))
        x = self.pool3(self.conv3b(self.conv3a(x)))
        x = self.pool4(self.conv4b(self.conv4a(x)))
        x = self.pool5(self.conv5b(self.conv5a(x))).flatten(1)
        if not torch.jit.is_tracing() and x.shape[1] != self.out_dim:
            raise ValueError(
                f"C3D's pool5 output has {x.shape[1]} values per clip but fc6 expects out_dim={self.out_dim}; "
                "feed 16x112x112 clips (8192) or build the model with the out_dim of your input size"
            )
        x = self.dropout(self.relu(self.fc6(x)))
        return self.relu(self.fc7(x))


_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/c3d"
_CONFIG = "c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb"
WEIGHTS: dict[str, WeightsInfo] = {
    "c3d_16x1x1_ucf101_split1_mmaction2": WeightsInfo(
        name="c3d_16x1x1_ucf101_split1_mmaction2",
        url=f"{_MM}/{_CONFIG}/{_CONFIG}_20220811-31723200.pth",
        source="mmaction2",
        converter="mmaction2_c3d",
        meta={
            "num_params": 78_409_573,
            "categories": "ucf101",
            "metrics": {"top1": 83.08, "top5": 95.93},
            "config": f"configs/recognition/c3d/{_CONFIG}.py",
        },
    ),
}


def c3d_backbone(*, pretrained: bool | str | os.PathLike[str] = False, **kwargs: Any) -> C3D:
    """MMAction2's C3D (Sports-1M layout); keywords as ``C3D``. ``pretrained``: ``True`` loads the Sports-1M
    backbone MMAction2's UCF101 recipe starts from (core's ``load_weights`` downloads it to the torch hub cache),
    a path loads a local copy. Keys beyond the backbone (the Sports-1M classifier) are ignored and listed in
    ``backbone.pretrained_report``; a missing or misshapen backbone tensor is an error."""
    backbone = C3D(**kwargs)
    if pretrained:
        from action_c3d.convert import SPORTS1M_URL, convert_mmaction2_backbone

        source = SPORTS1M_URL if pretrained is True else pretrained
        report = load_weights(backbone, source, converter=convert_mmaction2_backbone, strict=False)
        if report.missing or report.shape_mismatch:
            raise CheckpointMismatchError(
                f"{os.fspath(source)} does not hold the whole backbone: {report.summary()}", report
            )
        backbone.pretrained_report = report
    return backbone


def c3d_head(
    *, num_classes: int = 101, in_channels: int = 4096, dropout_ratio: float = 0.5, **kwargs: Any
) -> I3DHead:
    """MMAction2's C3D head: its ``I3DHead`` without pooling (dropout, linear) on the backbone's fc7 features.
    Registered on its own because a config file cannot write ``i3d_head``'s ``spatial_type = None``."""
    return I3DHead(num_classes, in_channels, spatial_type=None, dropout_ratio=dropout_ratio, **kwargs)


def c3d_parts(
    *,
    num_classes: int = 101,
    pretrained: bool | str | os.PathLike[str] = False,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``c3d`` composed of registered parts: backbone ``c3d`` (``pretrained`` and ``backbone_kwargs`` go there)
    and head ``c3d_head``; ``clip_len`` 16, the frame count the model is built for. ``weights`` (a published
    name from ``WEIGHTS``, a path to an MMAction2 checkpoint or a loaded one) are loaded by core's
    ``load_weights`` once it is built."""
    description: dict[str, Any] = {
        "type": "Recognizer3D",
        "clip_len": 16,
        "backbone": {"type": "c3d", "pretrained": pretrained, **backbone_kwargs},
        "head": {
            "type": "c3d_head",
            "num_classes": num_classes,
            "in_channels": backbone_kwargs.get("fc_channels", 4096),
            "dropout_ratio": dropout_ratio,
            "init_std": init_std,
            "loss": {"type": "cross_entropy"},
        },
    }
    if weights is not None:
        description.update(weights=weights, weights_backbone_only=weights_backbone_only)
    return description


def c3d(**kwargs: Any) -> Recognizer3D:
    """C3D recognizer; input (N, 3, 16, 112, 112), output logits (N, num_classes). Keyword arguments as
    ``c3d_parts`` (``num_classes=101, pretrained=False, dropout_ratio=0.5, init_std=0.01, weights=None,
    weights_backbone_only=False, **backbone_kwargs``): ``backbone_kwargs`` go to ``C3D`` (``fc_dropout_ratio``
    is the dropout between fc6 and fc7, ``dropout_ratio`` the head's). ``weights``: a name in ``WEIGHTS``, a
    path to an MMAction2 checkpoint or a loaded one (loaded strictly). ``pretrained`` initialises the backbone
    from Sports-1M instead (see ``c3d_backbone``)."""
    return compose_model(c3d_parts(**kwargs))
