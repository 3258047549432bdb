"""MMAction2 and transformers TimeSformer checkpoints onto :func:`~action_timesformer.timesformer_divst`.

MMAction2 builds each block from mmcv's ``BaseTransformerLayer``: ``attentions.0`` is the temporal attention
(with its ``temporal_fc``), ``attentions.1`` the spatial one, ``ffns.0`` the MLP, attention through
``nn.MultiheadAttention`` (``in_proj_weight`` = our fused ``qkv``, ``out_proj`` = ``proj``).
transformers' ``TimesformerForVideoClassification`` names the same tensors ``temporal_attention``,
``temporal_dense``, ``attention``, ``intermediate`` / ``output``; its ``qkv`` is fused already.
Every source key is either converted or returned as unconverted.
"""

from __future__ import annotations

import torch

from action_core.api import rename_keys
from action_vit.convert import Checkpoint, read_state_dict

__all__ = [
    "MMACTION2_TIMESFORMER_RULES",
    "TRANSFORMERS_TIMESFORMER_RULES",
    "convert_mmaction2_timesformer",
    "convert_transformers_timesformer",
]

_WB = r"(weight|bias)"
_MM = r"backbone\.transformer_layers\.layers\.(\d+)"
MMACTION2_TIMESFORMER_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.(cls_token|pos_embed|time_embed)", r"backbone.\1"),
    (rf"backbone\.(patch_embed\.projection|norm)\.{_WB}", r"backbone.\1.\2"),
    (rf"{_MM}\.attentions\.0\.norm\.{_WB}", r"backbone.layers.\1.temporal_norm.\2"),
    (rf"{_MM}\.attentions\.0\.attn\.in_proj_{_WB}", r"backbone.layers.\1.temporal_attn.qkv.\2"),
    (rf"{_MM}\.attentions\.0\.attn\.out_proj\.{_WB}", r"backbone.layers.\1.temporal_attn.proj.\2"),
    (rf"{_MM}\.attentions\.0\.temporal_fc\.{_WB}", r"backbone.layers.\1.temporal_fc.\2"),
    (rf"{_MM}\.attentions\.1\.norm\.{_WB}", r"backbone.layers.\1.spatial_norm.\2"),
    (rf"{_MM}\.attentions\.1\.attn\.in_proj_{_WB}", r"backbone.layers.\1.spatial_attn.qkv.\2"),
    (rf"{_MM}\.attentions\.1\.attn\.out_proj\.{_WB}", r"backbone.layers.\1.spatial_attn.proj.\2"),
    (rf"{_MM}\.ffns\.0\.norm\.{_WB}", r"backbone.layers.\1.ffn_norm.\2"),
    (rf"{_MM}\.ffns\.0\.layers\.0\.0\.{_WB}", r"backbone.layers.\1.mlp.fc1.\2"),
    (rf"{_MM}\.ffns\.0\.layers\.1\.{_WB}", r"backbone.layers.\1.mlp.fc2.\2"),
    (rf"cls_head\.fc_cls\.{_WB}", r"head.fc_cls.\1"),
)

_HF = r"timesformer\.encoder\.layer\.(\d+)"
TRANSFORMERS_TIMESFORMER_RULES: tuple[tuple[str, str], ...] = (
    (r"timesformer\.embeddings\.cls_token", r"backbone.cls_token"),
    (r"timesformer\.embeddings\.position_embeddings", r"backbone.pos_embed"),
    (r"timesformer\.embeddings\.time_embeddings", r"backbone.time_embed"),
    (rf"timesformer\.embeddings\.patch_embeddings\.projection\.{_WB}", r"backbone.patch_embed.projection.\1"),
    (rf"{_HF}\.temporal_layernorm\.{_WB}", r"backbone.layers.\1.temporal_norm.\2"),
    (rf"{_HF}\.temporal_attention\.attention\.qkv\.{_WB}", r"backbone.layers.\1.temporal_attn.qkv.\2"),
    (rf"{_HF}\.temporal_attention\.output\.dense\.{_WB}", r"backbone.layers.\1.temporal_attn.proj.\2"),
    (rf"{_HF}\.temporal_dense\.{_WB}", r"backbone.layers.\1.temporal_fc.\2"),
    (rf"{_HF}\.layernorm_before\.{_WB}", r"backbone.layers.\1.spatial_norm.\2"),
    (rf"{_HF}\.attention\.attention\.qkv\.{_WB}", r"backbone.layers.\1.spatial_attn.qkv.\2"),
    (rf"{_HF}\.attention\.output\.dense\.{_WB}", r"backbone.layers.\1.spatial_attn.proj.\2"),
    (rf"{_HF}\.layernorm_after\.{_WB}", r"backbone.layers.\1.ffn_norm.\2"),
    (rf"{_HF}\.intermediate\.dense\.{_WB}", r"backbone.layers.\1.mlp.fc1.\2"),
    (rf"{_HF}\.output\.dense\.{_WB}", r"backbone.layers.\1.mlp.fc2.\2"),
    (rf"timesformer\.layernorm\.{_WB}", r"backbone.norm.\1"),
    (rf"classifier\.{_WB}", r"head.fc_cls.\1"),
)


def convert_mmaction2_timesformer(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 1.x TimeSformer (divided space-time) recognizer checkpoint to our keys; returns the
    converted state dict and the source keys no rule maps."""
    return rename_keys(read_state_dict(checkpoint), MMACTION2_TIMESFORMER_RULES)


def convert_transformers_timesformer(
    checkpoint: Checkpoint,
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a transformers ``TimesformerForVideoClassification`` state dict (``attention_type=
    "divided_space_time"``) to our keys; a bare ``TimesformerModel`` state dict (no ``timesformer.``
    prefix) is accepted too. safetensors files: load them with ``safetensors.torch.load_file`` first."""
    state = read_state_dict(checkpoint)
    if not any(k.startswith("timesformer.") for k in state):
        state = {(k if k.startswith("classifier.") else f"timesformer.{k}"): v for k, v in state.items()}
    return rename_keys(state, TRANSFORMERS_TIMESFORMER_RULES)
