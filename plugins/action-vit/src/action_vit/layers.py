"""Transformer building blocks shared by the video transformers (TimeSformer, VideoMAE, MViT, Video Swin).

Attention runs through :func:`torch.nn.functional.scaled_dot_product_attention`, so PyTorch picks the fused
kernel (flash / memory-efficient on GPUs, the fused CPU kernel) and the attention matrix is never materialised
where a fused kernel exists.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "DropPath",
    "Mlp",
    "MultiheadSelfAttention",
    "init_transformer_weights",
    "lecun_normal_",
    "sinusoid_position_encoding",
]

QKV_BIAS_MODES = ("qkv", "qv", "none")


class MultiheadSelfAttention(nn.Module):
    """Multi-head self-attention over (B, N, C) tokens with one fused ``qkv`` projection and an output ``proj``.

    ``bias``: ``"qkv"`` gives the ``qkv`` projection an ordinary bias (``nn.MultiheadAttention``, TimeSformer);
    ``"qv"`` keeps the projection bias-free and adds learnable ``q_bias`` and ``v_bias`` with no key bias
    (BEiT / VideoMAE); ``"none"`` has no projection bias. ``scale`` overrides the ``head_dim ** -0.5`` factor.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        *,
        bias: str = "qkv",
        scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f"embed_dims ({embed_dims}) must be a multiple of num_heads ({num_heads})")
        if bias not in QKV_BIAS_MODES:
            raise ValueError(f"bias must be one of {', '.join(QKV_BIAS_MODES)}, got {bias!r}")
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.scale = scale
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(embed_dims, 3 * embed_dims, bias=bias == "qkv")
        if bias == "qv":
            self.q_bias = nn.Parameter(torch.zeros(embed_dims))
            self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        else:
            self.q_bias = self.v_bias = None
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Attend within each sequence of (B, N, C) tokens; returns (B, N, C)."""
        batch, tokens, channels = x.shape
        if self.q_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
            qkv = F.linear(x, self.qkv.weight, bias)
        else:
            qkv = self.qkv(x)
        qkv = qkv.reshape(batch, tokens, 3, self.num_heads, channels // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0, scale=self.scale
        )
        x = x.transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    """Transformer feed-forward block: ``fc1``, GELU, dropout, ``fc2``, dropout.

    ``out_dims`` (default ``embed_dims``) lets the block change the width (MViT widens in the MLP).
    """

    def __init__(
        self, embed_dims: int, hidden_dims: int, out_dims: int | None = None, *, drop: float = 0.0
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dims, embed_dims if out_dims is None else out_dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C) -> (..., out_dims)."""
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class DropPath(nn.Module):
    """Stochastic depth: in training, drop a sample's whole residual branch with probability ``drop_prob``
    and scale kept branches by ``1 / (1 - drop_prob)``; the identity in eval mode."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob!r}")
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with whole samples zeroed (training) or unchanged (eval)."""
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


def sinusoid_position_encoding(num_positions: int, embed_dims: int) -> torch.Tensor:
    """The fixed sine-cosine table of "Attention Is All You Need", shape (1, num_positions, embed_dims).

    Channel ``2i`` holds ``sin(p / 10000^(2i / C))`` and ``2i + 1`` the cosine of the same angle; computed in
    float64 and returned as float32 (as VideoMAE, MMAction2 and transformers compute it). Always computed on
    the CPU (float64 everywhere, whatever the default device); move it where it is needed.
    """
    exponent = torch.arange(embed_dims, dtype=torch.float64, device="cpu")
    exponent = (exponent - exponent % 2) / embed_dims
    positions = torch.arange(num_positions, dtype=torch.float64, device="cpu")
    angles = positions[:, None] * torch.pow(10000.0, -exponent)[None]
    table = torch.empty_like(angles)
    table[:, 0::2] = torch.sin(angles[:, 0::2])
    table[:, 1::2] = torch.cos(angles[:, 1::2])
    return table.to(torch.float32).unsqueeze(0)


def init_transformer_weights(module: nn.Module, *, std: float = 0.02) -> None:
    """ViT initialisation: truncated-normal (``std``) linear weights with zero bias, unit LayerNorms."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def lecun_normal_(weight: torch.Tensor) -> None:
    """Normal(0, 1 / fan_in) weights (MMAction2's patch-embedding initialisation)."""
    fan_in = weight[0].numel()
    nn.init.normal_(weight, std=1.0 / math.sqrt(fan_in))
