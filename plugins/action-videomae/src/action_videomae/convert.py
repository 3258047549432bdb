"""Checkpoints of transformers' ``VideoMAEForVideoClassification`` onto our VideoMAE recognizers.

transformers keeps separate ``query`` / ``key`` / ``value`` projections (fused here into one ``qkv``
weight, in that order), stores the q/v biases as ``q_bias`` / ``v_bias`` (4.x) or as the ``query`` /
``value`` biases (5.x), and does not store the fixed position table. Its classifier input is
``fc_norm(mean of tokens)``, as ours. Note its LayerNorm epsilons: ``config.layer_norm_eps`` in the blocks
(1e-12 by default) and 1e-5 in ``fc_norm``; build the model with ``norm_eps`` / ``fc_norm_eps`` to match.
MMAction2 checkpoints convert with ``action_vit.convert.convert_mmaction2_vit3d``.
"""

from __future__ import annotations

import re

import torch

from action_core.api import rename_keys
from action_vit.convert import Checkpoint, fuse_qkv, read_state_dict

__all__ = ["TRANSFORMERS_VIDEOMAE_RULES", "convert_transformers_videomae"]

_LAYER = r"videomae\.encoder\.layer\.(\d+)"
TRANSFORMERS_VIDEOMAE_RULES: tuple[tuple[str, str], ...] = (
    (
        r"videomae\.embeddings\.patch_embeddings\.projection\.(weight|bias)",
        r"backbone.patch_embed.projection.\1",
    ),
    (rf"{_LAYER}\.layernorm_before\.(weight|bias)", r"backbone.blocks.\1.norm1.\2"),
    (rf"{_LAYER}\.attention\.attention\.(?:q_bias|query\.bias)", r"backbone.blocks.\1.attn.q_bias"),
    (rf"{_LAYER}\.attention\.attention\.(?:v_bias|value\.bias)", r"backbone.blocks.\1.attn.v_bias"),
    (rf"{_LAYER}\.attention\.output\.dense\.(weight|bias)", r"backbone.blocks.\1.attn.proj.\2"),
    (rf"{_LAYER}\.layernorm_after\.(weight|bias)", r"backbone.blocks.\1.norm2.\2"),
    (rf"{_LAYER}\.intermediate\.dense\.(weight|bias)", r"backbone.blocks.\1.mlp.fc1.\2"),
    (rf"{_LAYER}\.output\.dense\.(weight|bias)", r"backbone.blocks.\1.mlp.fc2.\2"),
    (r"fc_norm\.(weight|bias)", r"backbone.fc_norm.\1"),
    (r"videomae\.layernorm\.(weight|bias)", r"backbone.norm.\1"),
    (r"classifier\.(weight|bias)", r"head.fc_cls.\1"),
)

_QKV = re.compile(rf"{_LAYER}\.attention\.attention\.query\.weight")


def convert_transformers_videomae(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename (and fuse) a transformers ``VideoMAEForVideoClassification`` state dict to our keys.

    A bare ``VideoMAEModel`` state dict (no ``videomae.`` prefix) is accepted too. Returns the converted
    state dict and the source keys no rule maps. safetensors files: load them with ``safetensors.torch.
    load_file`` and pass the mapping.
    """
    state = read_state_dict(checkpoint)
    if not any(k.startswith("videomae.") for k in state):
        state = {
            (k if k.startswith(("fc_norm.", "classifier.")) else f"videomae.{k}"): v for k, v in state.items()
        }
    groups = []
    for key in state:
        match = _QKV.fullmatch(key)
        if match:
            prefix = key[: -len("query.weight")]
            target = f"backbone.blocks.{match.group(1)}.attn.qkv.weight"
            groups.append((f"{prefix}query.weight", f"{prefix}key.weight", f"{prefix}value.weight", target))
    fused, used = fuse_qkv(state, groups)
    renamed, unconverted = rename_keys(
        {k: v for k, v in state.items() if k not in used}, TRANSFORMERS_VIDEOMAE_RULES
    )
    renamed.update(fused)
    return renamed, unconverted
