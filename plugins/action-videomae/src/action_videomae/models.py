"""VideoMAE (Tong et al. 2022) fine-tuned classifiers in MMAction2's form.

A plain ViT over space-time tubelets (:class:`~action_vit.VisionTransformer3D`: 2x16x16 tubelets, fixed
sine-cosine positions, q/v-biased SDPA attention, mean pooling + LayerNorm) and a linear classifier on the
pooled feature (MMAction2's ``TimeSformerHead``, ``action_vit.heads.timesformer_head``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from action_core.api import Recognizer3D, WeightsInfo
from action_vit import VisionTransformer3D
from action_vit.convert import convert_mmaction2_vit3d
from action_vit.heads import timesformer_head
from action_vit.weights import WeightsArg, apply_weights

__all__ = ["WEIGHTS", "videomae_vit_b16", "videomae_vit_l16"]

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


def videomae_vit_b16(
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
    weights: WeightsArg = None,
    progress: bool = False,
) -> Recognizer3D:
    """VideoMAE ViT-B/16 classifier; input (N, 3, ``num_frames``, H, W) (16 x 224 x 224 by default), output
    logits (N, num_classes). 86,534,800 parameters with 400 classes.

    ``norm_eps`` / ``fc_norm_eps`` are the LayerNorm epsilons of the blocks and of the pooled feature
    (MMAction2: 1e-6 for both; transformers' ``VideoMAEForVideoClassification``: ``layer_norm_eps`` and 1e-5).
    ``backbone_kwargs`` passes other :class:`~action_vit.VisionTransformer3D` options (``qk_scale``,
    ``init_values``, ``use_learnable_pos_emb``, ``drop_rate``, ...). ``weights``: a name in ``WEIGHTS``, an
    MMAction2 checkpoint path or a loaded checkpoint (transformers checkpoints: ``load_transformers_videomae``).
    """
    backbone = VisionTransformer3D(
        img_size=img_size,
        patch_size=patch_size,
        num_frames=num_frames,
        tubelet_size=tubelet_size,
        embed_dims=embed_dims,
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=mlp_ratio,
        drop_path_rate=drop_path_rate,
        norm_eps=norm_eps,
        fc_norm_eps=fc_norm_eps,
        use_mean_pooling=use_mean_pooling,
        **dict(backbone_kwargs or {}),
    )
    head = timesformer_head(
        num_classes=num_classes, in_channels=embed_dims, dropout_ratio=dropout_ratio, init_std=init_std
    )
    model = Recognizer3D(backbone, head)
    model.clip_len = num_frames  # the frame count core's tools (flops, export, bench) default to
    apply_weights(model, weights, catalogue=WEIGHTS, convert=convert_mmaction2_vit3d, progress=progress)
    return model


def videomae_vit_l16(**kwargs: Any) -> Recognizer3D:
    """VideoMAE ViT-L/16 (1024 wide, 24 blocks, 16 heads); other arguments as :func:`videomae_vit_b16`."""
    return videomae_vit_b16(**{"embed_dims": 1024, "depth": 24, "num_heads": 16, **kwargs})
