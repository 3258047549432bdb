"""VideoMAE (Tong et al. 2022) fine-tuned classifiers in MMAction2's form.

A plain ViT over space-time tubelets (action-vit's ``vit3d`` backbone, :class:`~action_vit.VisionTransformer3D`:
2x16x16 tubelets, fixed sine-cosine positions, q/v-biased SDPA attention, mean pooling + LayerNorm) and a linear
classifier on the pooled feature (MMAction2's ``TimeSformerHead``, action-vit's ``timesformer_head``), composed
from those registered parts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo, compose_model

__all__ = [
    "VIT_B16_WEIGHTS",
    "VIT_L16_WEIGHTS",
    "WEIGHTS",
    "videomae_vit_b16",
    "videomae_vit_b16_parts",
    "videomae_vit_l16",
    "videomae_vit_l16_parts",
]

Weights = WeightsInfo | str | os.PathLike[str] | Mapping[str, Any] | None

_MM = "https://download.openmmlab.com/mmaction/v1.0/recognition/videomae"
WEIGHTS: dict[str, WeightsInfo] = {
    "vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400": WeightsInfo(
        name="vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400",
        url=f"{_MM}/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400_20221013-860a3cd3.pth",
        source="mmaction2",
        converter="mmaction2_videomae",
        meta={
            "num_params": 86_534_800,
            "dataset": "kinetics400",
            "metrics": {"top1": 81.3, "top5": 95.0},
            "config": "configs/recognition/videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py",
        },
    ),
    "vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400": WeightsInfo(
        name="vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400",
        url=f"{_MM}/vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400_20221013-229dbb03.pth",
        source="mmaction2",
        converter="mmaction2_videomae",
        meta={
            "num_params": 304_270_736,
            "dataset": "kinetics400",
            "metrics": {"top1": 85.3, "top5": 96.7},
            "config": "configs/recognition/videomae/vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400.py",
        },
    ),
}

#: The published checkpoints of each model (its registered ``weights`` catalogue).
VIT_B16_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("vit-base")}
VIT_L16_WEIGHTS = {name: info for name, info in WEIGHTS.items() if name.startswith("vit-large")}


def videomae_vit_b16_parts(
    *,
    num_classes: int = 400,
    img_size: int = 224,
    patch_size: int = 16,
    num_frames: int = 16,
    tubelet_size: int = 2,
    embed_dims: int = 768,
    depth: int = 12,
    num_heads: int = 12,
    mlp_ratio: float = 4.0,
    drop_path_rate: float = 0.0,
    norm_eps: float = 1e-6,
    fc_norm_eps: float | None = None,
    use_mean_pooling: bool = True,
    dropout_ratio: float = 0.0,
    init_std: float = 0.02,
    backbone_kwargs: Mapping[str, Any] | None = None,
    weights: Weights = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`videomae_vit_b16` for the same arguments: a ``Recognizer3D`` of action-vit's
    ``vit3d`` backbone and ``timesformer_head`` (``action-run config show NAME --expand`` prints it).

    ``norm_eps`` / ``fc_norm_eps`` are the LayerNorm epsilons of the blocks and of the pooled feature
    (MMAction2: 1e-6 for both; transformers' ``VideoMAEForVideoClassification``: ``layer_norm_eps`` and 1e-5).
    ``backbone_kwargs`` passes other :class:`~action_vit.VisionTransformer3D` options (``qk_scale``,
    ``init_values``, ``use_learnable_pos_emb``, ``drop_rate``, ...). ``weights``: a name in ``WEIGHTS``, a
    checkpoint path (MMAction2 or transformers layout, the converter is found by fit) or a loaded checkpoint,
    loaded by core's ``load_weights`` once built; ``weights_backbone_only`` loads only its ``backbone.*`` tensors.
    """
    backbone: dict[str, Any] = {
        "type": "vit3d",
        "img_size": img_size,
        "patch_size": patch_size,
        "num_frames": num_frames,
        "tubelet_size": tubelet_size,
        "embed_dims": embed_dims,
        "depth": depth,
        "num_heads": num_heads,
        "mlp_ratio": mlp_ratio,
        "drop_path_rate": drop_path_rate,
        "norm_eps": norm_eps,
        "use_mean_pooling": use_mean_pooling,
    }
    if fc_norm_eps is not None:
        backbone["fc_norm_eps"] = fc_norm_eps
    return {
        "type": "Recognizer3D",
        "clip_len": num_frames,  # the frame count core's tools (flops, export, bench) default to
        "backbone": {**backbone, **dict(backbone_kwargs or {})},
        "head": {
            "type": "timesformer_head",
            "num_classes": num_classes,
            "in_channels": embed_dims,
            "dropout_ratio": dropout_ratio,
            "init_std": init_std,
        },
        "weights": weights,
        "weights_backbone_only": weights_backbone_only,
    }


def videomae_vit_b16(**kwargs: Any) -> Recognizer3D:
    """VideoMAE ViT-B/16 classifier; input (N, 3, ``num_frames``, H, W) (16 x 224 x 224 by default), output
    logits (N, num_classes). 86,534,800 parameters with 400 classes. Arguments (and their defaults) as
    :func:`videomae_vit_b16_parts`, which this builds."""
    return compose_model(videomae_vit_b16_parts(**kwargs))


_LARGE = {"embed_dims": 1024, "depth": 24, "num_heads": 16}


def videomae_vit_l16_parts(**kwargs: Any) -> dict[str, Any]:
    """The composition of :func:`videomae_vit_l16`: :func:`videomae_vit_b16_parts` 1024 wide, 24 blocks,
    16 heads unless ``kwargs`` say otherwise."""
    return videomae_vit_b16_parts(**{**_LARGE, **kwargs})


def videomae_vit_l16(**kwargs: Any) -> Recognizer3D:
    """VideoMAE ViT-L/16 (1024 wide, 24 blocks, 16 heads); other arguments as :func:`videomae_vit_b16`."""
    return compose_model(videomae_vit_l16_parts(**kwargs))
