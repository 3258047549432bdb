"""I3D (Carreira & Zisserman 2017) in MMAction2's ResNet-50 form: an ImageNet-inflatable 3D ResNet-50 with a
5x7x7 stem, temporal strides in the stem and its pool, a temporal max-pool after stage 1, alternating inflated
blocks, optional non-local blocks, and the I3D head (average pool, dropout, linear)."""

from __future__ import annotations

from typing import Literal

from action_core.api import I3DHead, Recognizer3D, WeightsInfo
from action_resnet3d import ResNet3d
from action_resnet3d.inflate import inflate_resnet2d_weights, load_resnet2d_state_dict
from action_resnet3d.weights import WeightsArg, apply_weights

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
    non_local: Literal["dot_product", "embedded_gaussian"] | None = None,
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


def i3d_r50(
    *,
    num_classes: int = 400,
    pretrained: bool | str = False,
    non_local: Literal["dot_product", "embedded_gaussian"] | None = None,
    dropout_ratio: float = 0.5,
    init_std: float = 0.01,
    weights: WeightsArg = None,
    progress: bool = False,
    **backbone_kwargs: object,
) -> Recognizer3D:
    """I3D ResNet-50 recognizer; input (N, 3, T, H, W), output logits (N, num_classes).

    ``weights``: a name in ``WEIGHTS``, a ``WeightsInfo``, a path to an MMAction2 checkpoint or a loaded one
    (converted and loaded strictly). ``pretrained`` inflates ImageNet 2D weights into the backbone instead.
    """
    backbone = i3d_backbone(depth=50, pretrained=pretrained, non_local=non_local, **backbone_kwargs)
    head = I3DHead(num_classes, backbone.feat_dim, dropout_ratio=dropout_ratio, init_std=init_std)
    model = Recognizer3D(backbone, head)
    apply_weights(model, weights, catalogue=WEIGHTS, progress=progress)
    return model
