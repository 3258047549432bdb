"""Builders of the MViT recognizers and their components (keyword-only, plain PyTorch modules).

- ``mvit_v2_s`` / ``mvit_v2_b`` / ``mvit_v2_l``: MMAction2's ``MViT(arch='small' | 'base' | 'large')`` with
  ``MViTHead`` (the same networks as torchvision's ``mvit_v2_s`` and PySlowFast's MViTv2);
- ``mvit_v1_b``: MViT-B 16x4 of the first paper (PyTorchVideo ``mvit_base_16x4``, torchvision ``mvit_v1_b``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo

from .backbones import MViT
from .heads import MViTHead
from .weights import WeightsArg, apply_weights

ARCHS: dict[str, dict[str, Any]] = {
    "small": {"embed_dims": 96, "num_layers": 16, "num_heads": 1, "downscale_indices": (1, 3, 14)},
    "base": {"embed_dims": 96, "num_layers": 24, "num_heads": 1, "downscale_indices": (2, 5, 21)},
    "large": {"embed_dims": 144, "num_layers": 48, "num_heads": 2, "downscale_indices": (2, 8, 44)},
}

# MViT v1: absolute separable position embeddings, no relative terms or pooling residual, widening in the MLP,
# queries pooled only where strided.
V1_OPTIONS: dict[str, Any] = {
    "rel_pos_embed": False,
    "residual_pooling": False,
    "dim_mul_in_attention": False,
    "pool_q_every_layer": False,
    "pos_embed": "separable",
}

_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/mvit"
WEIGHTS: dict[str, WeightsInfo] = {
    "mvit_v2_s_16x4x1_kinetics400_mmaction2": WeightsInfo(
        name="mvit_v2_s_16x4x1_kinetics400_mmaction2",
        url=f"{_MM}/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb/"
        "mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb_20230201-23284ff3.pth",
        source="mmaction2",
        converter="mmaction2_mvit",
        meta={
            "num_params": 34_537_744,
            "categories": "kinetics400",
            "metrics": {"top1": 80.6, "top5": 94.7},
            "config": "configs/recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py",
        },
    ),
    "mvit_v2_s_16x4x1_kinetics400_pyslowfast": WeightsInfo(
        name="mvit_v2_s_16x4x1_kinetics400_pyslowfast",
        url=f"{_MM}/converted/mvit-small-p244_16x4x1_kinetics400-rgb_20221021-9ebaaeed.pth",
        source="mmaction2",
        converter="mmaction2_mvit",
        meta={"num_params": 34_537_744, "categories": "kinetics400", "metrics": {"top1": 81.1, "top5": 94.7}},
    ),
    "mvit_v2_s_kinetics400_torchvision": WeightsInfo(
        name="mvit_v2_s_kinetics400_torchvision",
        url="https://download.pytorch.org/models/mvit_v2_s-ae3be167.pth",
        source="torchvision",
        converter="torchvision_mvit",
        meta={
            "num_params": 34_537_744,
            "categories": "kinetics400",
            "metrics": {"top1": 80.757, "top5": 94.665},
        },
    ),
    "mvit_v1_b_16x4_kinetics400_torchvision": WeightsInfo(
        name="mvit_v1_b_16x4_kinetics400_torchvision",
        url="https://download.pytorch.org/models/mvit_v1_b-dbeb1030.pth",
        source="torchvision",
        converter="torchvision_mvit",
        builder_kwargs={"pool_norm_eps": 1e-6},
        meta={
            "num_params": 36_610_672,
            "categories": "kinetics400",
            "metrics": {"top1": 78.477, "top5": 93.582},
        },
    ),
    "mvit_v1_b_16x4_kinetics400_pytorchvideo": WeightsInfo(
        name="mvit_v1_b_16x4_kinetics400_pytorchvideo",
        url="https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/MVIT_B_16x4.pyth",
        source="pytorchvideo",
        converter="pytorchvideo_mvit",
        meta={
            "num_params": 36_610_672,
            "categories": "kinetics400",
            "metrics": {"top1": 78.9, "top5": 93.85},
        },
    ),
}


def mvit_backbone(
    *,
    arch: str = "small",
    spatial_size: int = 224,
    temporal_size: int = 16,
    drop_path_rate: float = 0.2,
    **options: Any,
) -> MViT:
    """An MViT backbone of MMAction2's ``arch`` (``small``, ``base``, ``large``); ``options`` override any
    :class:`~action_mvit.backbones.MViT` argument (``embed_dims``, ``num_layers``, ``rel_pos_embed``, ...)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown MViT arch {arch!r}; choose one of {', '.join(ARCHS)}")
    settings = {**ARCHS[arch], **options}
    return MViT(
        spatial_size=spatial_size, temporal_size=temporal_size, drop_path_rate=drop_path_rate, **settings
    )


def mvit_head(*, num_classes: int = 400, in_channels: int = 768, **kwargs: Any) -> MViTHead:
    """Registered builder of :class:`~action_mvit.heads.MViTHead`."""
    return MViTHead(num_classes, in_channels, **kwargs)


def _recognizer(
    backbone: MViT,
    *,
    num_classes: int,
    dropout_ratio: float,
    label_smoothing: float,
    weights: WeightsArg,
    converter: str,
    progress: bool,
) -> Recognizer3D:
    head = MViTHead(
        num_classes,
        backbone.out_channels,
        with_cls_token=backbone.with_cls_token,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
    )
    model = Recognizer3D(backbone, head)
    apply_weights(model, weights, catalogue=WEIGHTS, converter=converter, progress=progress)
    return model


def _mvit_v2(
    arch: str,
    *,
    num_classes: int,
    spatial_size: int,
    temporal_size: int,
    drop_path_rate: float,
    dropout_ratio: float,
    label_smoothing: float,
    weights: WeightsArg,
    progress: bool,
    options: dict[str, Any],
) -> Recognizer3D:
    backbone = mvit_backbone(
        arch=arch,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        drop_path_rate=drop_path_rate,
        **options,
    )
    return _recognizer(
        backbone,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        converter="mmaction2_mvit",
        progress=progress,
    )


def mvit_v2_s(
    *,
    num_classes: int = 400,
    spatial_size: int = 224,
    temporal_size: int = 16,
    embed_dims: int = 96,
    num_layers: int = 16,
    num_heads: int = 1,
    downscale_indices: Sequence[int] = (1, 3, 14),
    drop_path_rate: float = 0.2,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """MViTv2-S (MMAction2 ``mvit-small-p244``): input (N, 3, 16, 224, 224), logits (N, num_classes);
    34,537,744 parameters with 400 classes. ``embed_dims`` / ``num_layers`` / ``num_heads`` /
    ``downscale_indices`` narrow it (tests). ``weights``: a name in ``WEIGHTS``, or an MMAction2 checkpoint."""
    return _mvit_v2(
        "small",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        progress=progress,
        options={
            "embed_dims": embed_dims,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "downscale_indices": tuple(downscale_indices),
        },
    )


def mvit_v2_b(
    *,
    num_classes: int = 400,
    spatial_size: int = 224,
    temporal_size: int = 32,
    embed_dims: int = 96,
    num_layers: int = 24,
    num_heads: int = 1,
    downscale_indices: Sequence[int] = (2, 5, 21),
    drop_path_rate: float = 0.3,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """MViTv2-B 32x3 (MMAction2 ``mvit-base-p244_32x3x1``): input (N, 3, 32, 224, 224); 51,230,128 parameters
    with 400 classes. Narrowing arguments as ``mvit_v2_s``."""
    return _mvit_v2(
        "base",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        progress=progress,
        options={
            "embed_dims": embed_dims,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "downscale_indices": tuple(downscale_indices),
        },
    )


def mvit_v2_l(
    *,
    num_classes: int = 400,
    spatial_size: int = 312,
    temporal_size: int = 40,
    embed_dims: int = 144,
    num_layers: int = 48,
    num_heads: int = 2,
    downscale_indices: Sequence[int] = (2, 8, 44),
    drop_path_rate: float = 0.75,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """MViTv2-L 40x3 (MMAction2 ``mvit-large-p244_40x3x1``): input (N, 3, 40, 312, 312); 213,390,112
    parameters with 400 classes. Narrowing arguments as ``mvit_v2_s``."""
    return _mvit_v2(
        "large",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        progress=progress,
        options={
            "embed_dims": embed_dims,
            "num_layers": num_layers,
            "num_heads": num_heads,
            "downscale_indices": tuple(downscale_indices),
        },
    )


def mvit_v1_b(
    *,
    num_classes: int = 400,
    spatial_size: int = 224,
    temporal_size: int = 16,
    embed_dims: int = 96,
    num_layers: int = 16,
    num_heads: int = 1,
    downscale_indices: Sequence[int] = (1, 3, 14),
    pool_norm_eps: float = 1e-5,
    drop_path_rate: float = 0.2,
    dropout_ratio: float = 0.5,
    label_smoothing: float = 0.0,
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """MViT-B 16x4 (v1; PyTorchVideo ``mvit_base_16x4``): input exactly (N, 3, temporal_size, spatial_size,
    spatial_size) because of its absolute position embeddings; 36,610,672 parameters with 400 classes.

    ``pool_norm_eps``: epsilon of the LayerNorms after q/k/v pooling: 1e-5 in PyTorchVideo, 1e-6 in torchvision's
    ``mvit_v1_b``. ``weights``: a name in ``WEIGHTS``, or a PyTorchVideo / PySlowFast checkpoint.
    """
    backbone = mvit_backbone(
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        drop_path_rate=drop_path_rate,
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        downscale_indices=tuple(downscale_indices),
        pool_norm_eps=pool_norm_eps,
        **V1_OPTIONS,
    )
    return _recognizer(
        backbone,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        converter="pytorchvideo_mvit",
        progress=progress,
    )
