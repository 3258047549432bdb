"""Video vision-transformer parts shared by the TimeSformer, VideoMAE, MViT and Video Swin plugins: attention
through ``scaled_dot_product_attention``, the MLP, stochastic depth, the sine-cosine table and VideoMAE's ViT
backbone.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Block": "action_vit.vit3d",
    "DropPath": "action_vit.layers",
    "Mlp": "action_vit.layers",
    "MultiheadSelfAttention": "action_vit.layers",
    "TubeletEmbed": "action_vit.vit3d",
    "VisionTransformer3D": "action_vit.vit3d",
    "convert_mmaction2_vit3d": "action_vit.convert",
    "fuse_qkv": "action_vit.convert",
    "init_transformer_weights": "action_vit.layers",
    "is_fixed_sinusoid_table": "action_vit.convert",
    "read_state_dict": "action_vit.convert",
    "sinusoid_position_encoding": "action_vit.layers",
    "timesformer_head": "action_vit.heads",
    "vit3d_backbone": "action_vit.vit3d",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
