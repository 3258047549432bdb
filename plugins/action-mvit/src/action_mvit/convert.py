"""Checkpoints of MMAction2, torchvision and PyTorchVideo MViTs onto this package's recognizers.

- MMAction2 1.x ``MViT`` + ``MViTHead``: our backbone keeps its module names; only the final norm (``norm3``,
  named after its output scale) becomes ``norm`` and ``cls_head`` becomes ``head``.
- torchvision ``mvit_v2_s`` (onto ``mvit_v2_s``) and ``mvit_v1_b`` (onto ``mvit_v1_b``): renamed modules
  (``conv_proj``, ``pos_encoding``, ``project``, ``pool_q.pool`` / ``pool_q.norm_act.0``, ``mlp.0/3``,
  ``head.1``); its class token and absolute embeddings lack the leading singleton dimensions ours have.
- PyTorchVideo ``mvit_base_16x4`` (and PySlowFast's ``MVIT_B_16x4`` files, wrapped in ``model_state``) onto
  ``mvit_v1_b``: separate ``q``/``k``/``v`` projections are stacked into our ``qkv``.

Every source key is either converted or returned as unconverted, never dropped. Converters follow core's contract
``convert(checkpoint) -> (state_dict, unconverted_keys)``; core's ``load_weights`` loads their output.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]

_P = r"(?P<p>weight|bias)"

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (rf"backbone\.norm\d+\.{_P}", r"backbone.norm.\g<p>"),
    (r"backbone\.(?P<rest>.+)", r"backbone.\g<rest>"),
    (rf"cls_head\.fc_cls\.{_P}", r"head.fc_cls.\g<p>"),
)

_TV_BLOCK = r"blocks\.(?P<i>\d+)\."
TORCHVISION_RULES: tuple[tuple[str, str], ...] = (
    (rf"conv_proj\.{_P}", r"backbone.patch_embed.projection.\g<p>"),
    (r"pos_encoding\.class_token", r"backbone.cls_token"),
    (r"pos_encoding\.spatial_pos", r"backbone.pos_embed_spatial"),
    (r"pos_encoding\.temporal_pos", r"backbone.pos_embed_temporal"),
    (r"pos_encoding\.class_pos", r"backbone.pos_embed_class"),
    (rf"{_TV_BLOCK}attn\.project\.0\.{_P}", r"backbone.blocks.\g<i>.attn.proj.\g<p>"),
    (rf"{_TV_BLOCK}attn\.pool_(?P<x>[qkv])\.pool\.weight", r"backbone.blocks.\g<i>.attn.pool_\g<x>.weight"),
    (
        rf"{_TV_BLOCK}attn\.pool_(?P<x>[qkv])\.norm_act\.0\.{_P}",
        r"backbone.blocks.\g<i>.attn.norm_\g<x>.\g<p>",
    ),
    (rf"{_TV_BLOCK}attn\.(?P<n>qkv\.(?:weight|bias)|rel_pos_[thw])", r"backbone.blocks.\g<i>.attn.\g<n>"),
    (rf"{_TV_BLOCK}mlp\.0\.{_P}", r"backbone.blocks.\g<i>.mlp.fc1.\g<p>"),
    (rf"{_TV_BLOCK}mlp\.3\.{_P}", r"backbone.blocks.\g<i>.mlp.fc2.\g<p>"),
    (rf"{_TV_BLOCK}project\.{_P}", r"backbone.blocks.\g<i>.proj.\g<p>"),
    (rf"{_TV_BLOCK}(?P<n>norm[12])\.{_P}", r"backbone.blocks.\g<i>.\g<n>.\g<p>"),
    (rf"norm\.{_P}", r"backbone.norm.\g<p>"),
    (rf"head\.1\.{_P}", r"head.fc_cls.\g<p>"),
)

PYTORCHVIDEO_RULES: tuple[tuple[str, str], ...] = (
    (rf"patch_embed\.patch_model\.{_P}", r"backbone.patch_embed.projection.\g<p>"),
    (
        r"cls_positional_encoding\.(?P<n>cls_token|pos_embed_spatial|pos_embed_temporal|pos_embed_class)",
        r"backbone.\g<n>",
    ),
    # q/k/v are only renamed once stacked into qkv (see convert_pytorchvideo)
    (r"blocks\.(?P<rest>\d+\.(?!attn\.[qkv]\.).+)", r"backbone.blocks.\g<rest>"),
    (rf"norm_embed\.{_P}", r"backbone.norm.\g<p>"),
    (rf"head\.proj\.{_P}", r"head.fc_cls.\g<p>"),
)

# torchvision stores these as (C,) or (L, C); ours are (1, L, C) like MMAction2's and PyTorchVideo's.
_TORCHVISION_TOKENS = (
    "backbone.cls_token",
    "backbone.pos_embed_class",
    "backbone.pos_embed_spatial",
    "backbone.pos_embed_temporal",
)


def _state_dict(source: Checkpoint) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint given as a loaded mapping or a file (core's ``read_checkpoint``,
    ``weights_only=True``).

    Wrappers are removed: ``state_dict`` (MMAction2), ``model`` (ours), ``model_state`` (PySlowFast /
    PyTorchVideo ``.pyth`` files), a DDP ``module.`` prefix.
    """
    checkpoint = read_checkpoint(source)
    inner = checkpoint.get("model_state")
    return extract_state_dict(inner if isinstance(inner, Mapping) else checkpoint)


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """MMAction2 MViT recognizer checkpoint -> our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(_state_dict(checkpoint), MMACTION2_RULES)


def convert_torchvision(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """torchvision ``mvit_v2_s`` / ``mvit_v1_b`` state dict -> our keys (build ``mvit_v2_s`` / ``mvit_v1_b``)."""
    state, unconverted = rename_keys(_state_dict(checkpoint), TORCHVISION_RULES)
    for key in _TORCHVISION_TOKENS:
        if key in state and state[key].ndim < 3:
            state[key] = state[key].reshape((1,) * (3 - state[key].ndim) + tuple(state[key].shape))
    return state, unconverted


def convert_pytorchvideo(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """PyTorchVideo ``mvit_base_16x4`` (PySlowFast ``MVIT_B_16x4``) state dict -> ``mvit_v1_b`` keys.

    The ``q``, ``k`` and ``v`` projections of a block are stacked (in that order) into ``qkv``; a block that
    lacks one of them keeps all three among the unconverted keys.
    """
    state = dict(_state_dict(checkpoint))
    fused: dict[str, torch.Tensor] = {}
    pattern = re.compile(r"(?P<prefix>blocks\.\d+\.attn)\.q\.(?P<p>weight|bias)")
    for key in [k for k in state if pattern.fullmatch(k)]:
        match = pattern.fullmatch(key)
        assert match is not None
        parts = [f"{match['prefix']}.{x}.{match['p']}" for x in "qkv"]
        if all(p in state for p in parts):
            fused[f"{match['prefix']}.qkv.{match['p']}"] = torch.cat([state.pop(p) for p in parts])
    state.update(fused)
    return rename_keys(state, PYTORCHVIDEO_RULES)
