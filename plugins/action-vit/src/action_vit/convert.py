"""Checkpoint conversion helpers for the video transformers, and MMAction2's ``VisionTransformer`` (VideoMAE)
onto :class:`~action_vit.vit3d.VisionTransformer3D` recognizers.

Converters follow core's contract ``convert(checkpoint) -> (state_dict, unconverted_keys)`` and read files only
through ``action_core.api.read_checkpoint`` (``weights_only``); loading into a model is core's ``load_weights``.

Every source key is either converted or returned as unconverted (never dropped silently). The one key with
no tensor counterpart is a fixed sine-cosine position table stored in a checkpoint: our backbone recomputes
it from its configuration, so the converter checks that the stored table *is* that table (then it is
accounted for) and otherwise keeps it as a learned ``pos_embed`` (which only a model built with
``use_learnable_pos_emb=True`` accepts).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys
from action_vit.layers import sinusoid_position_encoding

__all__ = [
    "MMACTION2_VIT3D_RULES",
    "Checkpoint",
    "convert_mmaction2_vit3d",
    "fuse_qkv",
    "is_fixed_sinusoid_table",
    "read_state_dict",
]

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]

MMACTION2_VIT3D_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.blocks\.(\d+)\.mlp\.layers\.0\.0\.(weight|bias)", r"backbone.blocks.\1.mlp.fc1.\2"),
    (r"backbone\.blocks\.(\d+)\.mlp\.layers\.1\.(weight|bias)", r"backbone.blocks.\1.mlp.fc2.\2"),
    (
        r"backbone\.blocks\.(\d+)\.(norm1|norm2|attn\.qkv|attn\.proj)\.(weight|bias)",
        r"backbone.blocks.\1.\2.\3",
    ),
    (r"backbone\.blocks\.(\d+)\.(attn\.q_bias|attn\.v_bias|gamma_1|gamma_2)", r"backbone.blocks.\1.\2"),
    (r"backbone\.patch_embed\.projection\.(weight|bias)", r"backbone.patch_embed.projection.\1"),
    (r"backbone\.(norm|fc_norm)\.(weight|bias)", r"backbone.\1.\2"),
    (r"backbone\.pos_embed", r"backbone.pos_embed"),
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)


def read_state_dict(checkpoint: Checkpoint) -> dict[str, torch.Tensor]:
    """The tensor state dict of a checkpoint given as a path (read by core's ``read_checkpoint``, which only
    unpickles tensors and plain values) or as an already loaded mapping."""
    return extract_state_dict(read_checkpoint(checkpoint))


def is_fixed_sinusoid_table(table: torch.Tensor) -> bool:
    """Whether a (1, N, C) tensor is the fixed sine-cosine position table of its own shape."""
    if table.ndim != 3 or table.shape[0] != 1:
        return False
    expected = sinusoid_position_encoding(table.shape[1], table.shape[2])
    return torch.allclose(table.float().cpu(), expected, rtol=0, atol=1e-5)


def convert_mmaction2_vit3d(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 ``VisionTransformer`` recognizer checkpoint (VideoMAE) to our keys.

    A stored ``backbone.pos_embed`` equal to the fixed sine-cosine table is consumed (the model recomputes
    it); any other stored table is converted to ``backbone.pos_embed`` (a learned position embedding).
    Returns the converted state dict and the source keys no rule maps.
    """
    state = read_state_dict(checkpoint)
    table = state.get("backbone.pos_embed")
    if table is not None and is_fixed_sinusoid_table(table):
        state = {k: v for k, v in state.items() if k != "backbone.pos_embed"}
    return rename_keys(state, MMACTION2_VIT3D_RULES)


def fuse_qkv(
    state: Mapping[str, torch.Tensor], groups: Iterable[tuple[str, str, str, str]]
) -> tuple[dict[str, torch.Tensor], set[str]]:
    """Concatenate separate query/key/value weights into fused ``qkv`` weights.

    ``groups``: (query key, key key, value key, fused key). Returns the fused tensors and the source keys they
    consumed; a group with a missing member is left alone (its keys stay to be reported).
    """
    fused: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for q, k, v, target in groups:
        if q in state and k in state and v in state:
            fused[target] = torch.cat((state[q], state[k], state[v]), dim=0)
            used.update((q, k, v))
    return fused, used
