"""I3D (Carreira & Zisserman 2017) in MMAction2's ResNet-50 form: an ImageNet-inflatable 3D ResNet-50 with a
5x7x7 stem, temporal strides in the stem and its pool, a temporal max-pool after stage 1, alternating inflated
blocks, optional non-local blocks, and the I3D head (average pool, dropout, linear)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from action_core.api import Recognizer3D, WeightsInfo, compose_model
from action_resnet3d import ResNet3d, feature_width
from action_resnet3d.inflate import inflate_resnet2d_weights, load_resnet2d_state_dict

NonLocalMode = Literal["dot_product", "embedded_gaussian"]
WeightsSource = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any]

I3D_R50_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_R50_NON_LOCAL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))

_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/i3d"
WEIGHTS: dict[str, WeightsInfo] = {
    "i3d_r50_32x2x1_kinetics400_mmaction2": WeightsInfo(
        name="i3d_r50_32x2x1_kinetics400_mmaction2",
        url=f"{_MM}/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/"
        "i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth",
        source="mmaction2",
        converter="mmaction2_i3d",
        meta={
            "num_params": 28_043_472,
            "categories": "kinetics400",
            "metrics": {"top1": 73.47, "top5": 91.27},
        },
    ),
    "i3d_r50_nl_dot_product_32x2x1_kinetics400_mmaction2": WeightsInfo(
        name="i3d_r50_nl_dot_product_32x2x1_kinetics400_mmaction2",
        url=f"{_MM}/i3d_imagenet-pretrained-r50-nl-dot-product_8xb8-32x2x1-100e_kinetics400-rgb/"
        "i3d_imagenet-pretrained-r50-nl-dot-product_8xb8-32x2x1-100e_kinetics400-rgb_20220812-8e1f2148.pth",
        source="mmaction2",
        converter="mmaction2_i3d",
        builder_kwargs={"non_local": "dot_product"},
        meta={"categories": "kinetics400", "metrics": {"top1": 74.80, "top5": 92.07}},
    ),
    "i3d_r50_nl_embedded_gaussian_32x2x1_kinetics400_mmaction2": WeightsInfo(
        name="i3d_r50_nl_embedded_gaussian_32x2x1_kinetics400_mmaction2",
        url=f"{_MM}/i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb/"
        "i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb_20220812-afd8f562.pth",
        source="mmaction2",
        converter="mmaction2_i3d",
        builder_kwargs={"non_local": "embedded_gaussian"},
        meta={"categories": "kinetics400", "metrics": {"top1": 74.73, "top5": 91.80}},
    ),
}


def i3d_backbone(
    *,
    depth: int = 50,
    pretrained: bool | str = False,
    non_local: NonLocalMode | None = None,
    **overrides: object,
) -> ResNet3d:
    """MMAction2's I3D ``ResNet3d`` configuration; ``overrides`` replace any ``ResNet3d`` argument.

    ``non_local`` adds non-local blocks (sub-sampled, unscaled) after every other block of stages 2 and 3.
    ``pretrained`` inflates ImageNet weights (``True``: torchvision's; or a path to a ResNet state dict).
    """
    kwargs: dict[str, object] = {
        "conv1_kernel": (5, 7, 7),
        "conv1_stride_t": 2,
        "pool1_stride_t": 2,
        "inflate": I3D_R50_INFLATE,
        "zero_init_residual": False,
    }
    if non_local is not None:
        kwargs["non_local"] = I3D_R50_NON_LOCAL
        kwargs["non_local_cfg"] = {"mode": non_local, "sub_sample": True, "use_scale": False}
    kwargs.update(overrides)
    backbone = ResNet3d(depth, **kwargs)  # type: ignore[arg-type]
    if pretrained:
        backbone.inflation_report = inflate_resnet2d_weights(
            backbone, load_resnet2d_state_dict(depth, pretrained)
        )
    return backbone


def i3d_r50_parts(
    *,
    num_classes: int = 400,
    pretrained: bool | str = False,
    non_local: NonLocalMode | None = None,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsSource | None = None,
    weights_backbone_only: bool = False,
    **backbone_kwargs: Any,
) -> dict[str, Any]:
    """``i3d_r50`` composed of registered parts: backbone ``resnet3d_i3d`` (``pretrained``, ``non_local`` and
    ``backbone_kwargs`` go there) and core's ``i3d_head``. ``weights`` (a published name from ``WEIGHTS``, a
    path to an MMAction2 checkpoint or a loaded one) are loaded by core's ``load_weights`` once it is built."""
    backbone = {"type": "resnet3d_i3d", "depth": 50, "pretrained": pretrained, "non_local": non_local}
    backbone.update(backbone_kwargs)
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


def i3d_r50(**kwargs: Any) -> Recognizer3D:
    """I3D ResNet-50 recognizer; input (N, 3, T, H, W), output logits (N, num_classes). Keyword arguments as
    ``i3d_r50_parts`` (``num_classes=400, pretrained=False, non_local=None, dropout_ratio=0.5, init_std=0.01,
    weights=None, weights_backbone_only=False, **backbone_kwargs``): ``pretrained`` inflates ImageNet 2D
    weights into the backbone, ``weights`` loads a whole recognizer checkpoint."""
    return compose_model(i3d_r50_parts(**kwargs))
