"""SlowOnly (Feichtenhofer et al. 2019, the slow pathway of SlowFast alone): a 3D ResNet-50 whose stem and first
two stages are 2D (1x7x7, 1x1x1/1x3x3) and whose last two stages have 3x1x1 temporal kernels; no temporal
down-sampling. 4x16 and 8x8 differ only in sampling (4 frames every 16th, 8 frames every 8th)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo, compose_model
from action_resnet3d import ResNet3d, feature_width
from action_resnet3d.inflate import inflate_resnet2d_weights, load_resnet2d_state_dict

WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]

_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/slowonly"
WEIGHTS: dict[str, WeightsInfo] = {
    "slowonly_r50_4x16x1_kinetics400_mmaction2": WeightsInfo(
        name="slowonly_r50_4x16x1_kinetics400_mmaction2",
        url=f"{_MM}/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb/"
        "slowonly_r50_4x16x1_256e_8xb16_kinetics400-rgb_20220901-f6a40d08.pth",
        source="mmaction2",
        converter="mmaction2_slowonly",
        meta={
            "num_params": 32_454_096,
            "categories": "kinetics400",
            "metrics": {"top1": 72.68, "top5": 90.68},
        },
    ),
    "slowonly_r50_8x8x1_kinetics400_mmaction2": WeightsInfo(
        name="slowonly_r50_8x8x1_kinetics400_mmaction2",
        url=f"{_MM}/slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb/"
        "slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb_20220901-2132fc87.pth",
        source="mmaction2",
        converter="mmaction2_slowonly",
        meta={
            "num_params": 32_454_096,
            "categories": "kinetics400",
            "metrics": {"top1": 74.82, "top5": 91.80},
        },
    ),
}


def slowonly_backbone(*, depth: int = 50, pretrained: bool | str = False, **overrides: object) -> ResNet3d:
    """MMAction2's ``ResNet3dSlowOnly`` configuration; ``overrides`` replace any ``ResNet3d`` argument.

    ``pretrained`` inflates ImageNet weights (``True``: torchvision's; or a path to a ResNet state dict).
    """
    kwargs: dict[str, object] = {
        "conv1_kernel": (1, 7, 7),
        "conv1_stride_t": 1,
        "pool1_stride_t": 1,
        "inflate": (0, 0, 1, 1),
        "with_pool2": False,
    }
    kwargs.update(overrides)
    backbone = ResNet3d(depth, **kwargs)  # type: ignore[arg-type]
    if pretrained:
        backbone.inflation_report = inflate_resnet2d_weights(
            backbone, load_resnet2d_state_dict(depth, pretrained)
        )
    return backbone


def slowonly_r50_parts(
    *,
    num_classes: int = 400,
    pretrained: bool | str = False,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``slowonly_r50`` composed of registered parts: backbone ``resnet3d_slowonly`` (``pretrained`` and
    ``backbone_kwargs`` go there) and core's ``i3d_head``. ``weights`` (a published name from ``WEIGHTS``, a
    path to an MMAction2 checkpoint or a loaded one) are loaded by core's ``load_weights`` once it is built."""
    backbone = {"type": "resnet3d_slowonly", "depth": 50, "pretrained": pretrained, **backbone_kwargs}
    width = feature_width(
        backbone["depth"],
        base_channels=backbone.get("base_channels", 64),
        num_stages=backbone.get("num_stages", 4),
    )
    description: dict[str, Any] = {
        "type": "Recognizer3D",
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


def slowonly_r50(**kwargs: Any) -> Recognizer3D:
    """SlowOnly ResNet-50 recognizer; input (N, 3, T, H, W) (T = 4 or 8), output logits (N, num_classes).
    Keyword arguments as ``slowonly_r50_parts`` (``num_classes=400, pretrained=False, dropout_ratio=0.5,
    init_std=0.01, weights=None, weights_backbone_only=False, **backbone_kwargs``).

    ``pretrained`` inflates ImageNet 2D weights into the backbone (the "imagenet-pretrained" recipes, which use
    torchvision's ``pretrained="IMAGENET1K_V2"``; ``True`` means ``IMAGENET1K_V1``; a path loads a local file);
    ``weights`` loads a whole recognizer checkpoint (names in ``WEIGHTS``, paths, loaded mappings).
    """
    return compose_model(slowonly_r50_parts(**kwargs))
