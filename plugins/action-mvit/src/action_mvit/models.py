"""Builders of the MViT recognizers and their components (keyword-only, plain PyTorch modules).

- ``mvit_v2_s`` / ``mvit_v2_b`` / ``mvit_v2_l``: MMAction2's ``MViT(arch='small' | 'base' | 'large')`` with
  ``MViTHead`` (the same networks as torchvision's ``mvit_v2_s`` and PySlowFast's MViTv2);
- ``mvit_v1_b``: MViT-B 16x4 of the first paper (PyTorchVideo ``mvit_base_16x4``, torchvision ``mvit_v1_b``).

Each recognizer is composed from the registered parts (backbone ``mvit``, head ``mvit_head``): its ``*_parts``
function returns the description for the builder's arguments and the builder builds that description with core's
``compose_model``, which also loads ``weights`` through core's ``load_weights``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo, compose_model

from .backbones import MViT
from .heads import MViTHead

Weights = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any] | None

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

#: The published checkpoints of each model (its registered ``weights`` catalogue); MViTv2-B/L have none here.
MVIT_V2_S_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("mvit_v2_s_")}
MVIT_V1_B_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("mvit_v1_b_")}


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


def _out_channels(
    embed_dims: int, num_layers: int, downscale_indices: Sequence[int], *, dim_mul_in_attention: bool
) -> int:
    """The width of the last block of an :class:`MViT` (doubled at each downscale block, or, without widening in
    the attention (v1), in the MLP of the block before it), without building it."""
    widen_at = set(downscale_indices)
    shift = 0 if dim_mul_in_attention else 1
    return embed_dims * 2 ** sum(1 for i in range(num_layers) if i + shift in widen_at)


def _parts(
    backbone: dict[str, Any],
    *,
    num_classes: int,
    dropout_ratio: float,
    label_smoothing: float,
    weights: Weights,
    weights_backbone_only: bool,
) -> dict[str, Any]:
    in_channels = _out_channels(
        backbone["embed_dims"],
        backbone["num_layers"],
        backbone["downscale_indices"],
        dim_mul_in_attention=backbone.get("dim_mul_in_attention", True),
    )
    return {
        "type": "Recognizer3D",
        # the frame count core's tools (flops, export, bench) default to
        "clip_len": backbone["temporal_size"],
        "backbone": {"type": "mvit", **backbone},
        "head": {
            "type": "mvit_head",
            "num_classes": num_classes,
            "in_channels": in_channels,
            "with_cls_token": True,
            "dropout_ratio": dropout_ratio,
            "label_smoothing": label_smoothing,
        },
        "weights": weights,
        "weights_backbone_only": weights_backbone_only,
    }


def _mvit_v2_parts(
    arch: str,
    *,
    num_classes: int,
    spatial_size: int,
    temporal_size: int,
    embed_dims: int,
    num_layers: int,
    num_heads: int,
    downscale_indices: Sequence[int],
    drop_path_rate: float,
    dropout_ratio: float,
    label_smoothing: float,
    weights: Weights,
    weights_backbone_only: bool,
) -> dict[str, Any]:
    backbone = {
        "arch": arch,
        "spatial_size": spatial_size,
        "temporal_size": temporal_size,
        "drop_path_rate": drop_path_rate,
        "embed_dims": embed_dims,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "downscale_indices": [int(i) for i in downscale_indices],
    }
    return _parts(
        backbone,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
    )


def mvit_v2_s_parts(
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
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`mvit_v2_s` for the same arguments (backbone ``mvit`` of ``arch='small'``, head
    ``mvit_head``). ``embed_dims`` / ``num_layers`` / ``num_heads`` / ``downscale_indices`` narrow it (tests).
    ``weights``: a name in ``WEIGHTS``, a checkpoint file (MMAction2 or torchvision layout: the registered
    converter that fits is found) or a loaded checkpoint; ``weights_backbone_only`` loads its ``backbone.*`` only."""
    return _mvit_v2_parts(
        "small",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        downscale_indices=downscale_indices,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
    )


def mvit_v2_b_parts(
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
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`mvit_v2_b` (``arch='base'``); arguments as :func:`mvit_v2_s_parts`."""
    return _mvit_v2_parts(
        "base",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        downscale_indices=downscale_indices,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
    )


def mvit_v2_l_parts(
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
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`mvit_v2_l` (``arch='large'``); arguments as :func:`mvit_v2_s_parts`."""
    return _mvit_v2_parts(
        "large",
        num_classes=num_classes,
        spatial_size=spatial_size,
        temporal_size=temporal_size,
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        downscale_indices=downscale_indices,
        drop_path_rate=drop_path_rate,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
    )


def mvit_v1_b_parts(
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
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`mvit_v1_b` (backbone ``mvit`` with the v1 options of ``V1_OPTIONS``).

    ``pool_norm_eps``: epsilon of the LayerNorms after q/k/v pooling: 1e-5 in PyTorchVideo, 1e-6 in torchvision's
    ``mvit_v1_b``. ``weights``: a name in ``WEIGHTS``, a checkpoint file (PyTorchVideo / PySlowFast or torchvision
    layout: the registered converter that fits is found) or a loaded checkpoint.
    """
    backbone = {
        "spatial_size": spatial_size,
        "temporal_size": temporal_size,
        "drop_path_rate": drop_path_rate,
        "embed_dims": embed_dims,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "downscale_indices": [int(i) for i in downscale_indices],
        "pool_norm_eps": pool_norm_eps,
        **V1_OPTIONS,
    }
    return _parts(
        backbone,
        num_classes=num_classes,
        dropout_ratio=dropout_ratio,
        label_smoothing=label_smoothing,
        weights=weights,
        weights_backbone_only=weights_backbone_only,
    )


def mvit_v2_s(**kwargs: Any) -> Recognizer3D:
    """MViTv2-S (MMAction2 ``mvit-small-p244``): input (N, 3, 16, 224, 224), logits (N, num_classes);
    34,537,744 parameters with 400 classes. Arguments (and their defaults) as :func:`mvit_v2_s_parts`."""
    return compose_model(mvit_v2_s_parts(**kwargs))


def mvit_v2_b(**kwargs: Any) -> Recognizer3D:
    """MViTv2-B 32x3 (MMAction2 ``mvit-base-p244_32x3x1``): input (N, 3, 32, 224, 224); 51,230,128 parameters
    with 400 classes. Arguments as :func:`mvit_v2_b_parts`."""
    return compose_model(mvit_v2_b_parts(**kwargs))


def mvit_v2_l(**kwargs: Any) -> Recognizer3D:
    """MViTv2-L 40x3 (MMAction2 ``mvit-large-p244_40x3x1``): input (N, 3, 40, 312, 312); 213,390,112
    parameters with 400 classes. Arguments as :func:`mvit_v2_l_parts`."""
    return compose_model(mvit_v2_l_parts(**kwargs))


def mvit_v1_b(**kwargs: Any) -> Recognizer3D:
    """MViT-B 16x4 (v1; PyTorchVideo ``mvit_base_16x4``): input exactly (N, 3, temporal_size, spatial_size,
    spatial_size) because of its absolute position embeddings; 36,610,672 parameters with 400 classes.
    Arguments as :func:`mvit_v1_b_parts`."""
    return compose_model(mvit_v1_b_parts(**kwargs))
