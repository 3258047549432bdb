"""Checkpoint conversion helpers for the video transformers, and MMAction2's ``VisionTransformer`` (VideoMAE)
onto :class:`~action_vit.vit3d.VisionTransformer3D` recognizers.

Every source key is either converted or returned as unconverted (never dropped silently). The one key with
no tensor counterpart is a fixed sine-cosine position table stored in a checkpoint: our backbone recomputes
it from its configuration, so the converter checks that the stored table *is* that table (then it is
accounted for) and otherwise keeps it as a learned ``pos_embed`` (which only a model built with
``use_learnable_pos_emb=True`` accepts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_checkpoint, load_converted, rename_keys
from action_vit.layers import sinusoid_position_encoding

__all__ = [
    "MMACTION2_VIT3D_RULES",
    "Converter",
    "convert_mmaction2_vit3d",
    "fuse_qkv",
    "is_fixed_sinusoid_table",
    "load_mmaction2_vit3d",
    "load_with",
    "read_state_dict",
]

Converter = Callable[[Any], tuple[dict[str, torch.Tensor], tuple[str, ...]]]

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


def read_state_dict(checkpoint: Mapping[str, Any] | str | Path) -> dict[str, torch.Tensor]:
    """The tensor state dict of a checkpoint given as a path (read by core's ``load_checkpoint``, which only
    unpickles tensors and plain values) or as an already loaded mapping."""
    if isinstance(checkpoint, (str, Path)):
        checkpoint = load_checkpoint(checkpoint)
    return extract_state_dict(checkpoint)


def is_fixed_sinusoid_table(table: torch.Tensor) -> bool:
    """Whether a (1, N, C) tensor is the fixed sine-cosine position table of its own shape."""
    if table.ndim != 3 or table.shape[0] != 1:
        return False
    expected = sinusoid_position_encoding(table.shape[1], table.shape[2])
    return torch.allclose(table.float().cpu(), expected, rtol=0, atol=1e-5)


def convert_mmaction2_vit3d(
    checkpoint: Mapping[str, Any] | str | Path,
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
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


def load_with(
    model: nn.Module,
    checkpoint: Mapping[str, Any] | str | Path,
    convert: Converter,
    *,
    strict: bool = True,
    source: str | None = None,
) -> ConversionReport:
    """Convert ``checkpoint`` with ``convert`` and load it into ``model``; with ``strict`` any unconverted,
    missing, unexpected or mis-shaped key raises ``CheckpointMismatchError`` before the model is touched."""
    state, unconverted = convert(checkpoint)
    name = source or (str(checkpoint) if isinstance(checkpoint, (str, Path)) else "checkpoint")
    return load_converted(model, state, unconverted=unconverted, strict=strict, source=name)


def load_mmaction2_vit3d(
    model: nn.Module, checkpoint: Mapping[str, Any] | str | Path, *, strict: bool = True
) -> ConversionReport:
    """Convert an MMAction2 VideoMAE checkpoint and load it into a ``VisionTransformer3D`` recognizer."""
    return load_with(model, checkpoint, convert_mmaction2_vit3d, strict=strict)


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
