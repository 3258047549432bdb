"""Multiscale Vision Transformers: MViTv2 (Li et al. 2022) in MMAction2's layout, and MViT v1 (Fan et al. 2021).

A 3D convolution cuts the clip into patch tokens, a class token is prepended, and a stack of multiscale blocks
follows. Each block pools its queries, keys and values with depthwise 3D convolutions (``pool_q/k/v``, each
followed by a LayerNorm) before attention, so the sequence shrinks where the query is strided (the
``downscale_indices``) and keys/values are pooled harder early on (``adaptive_kv_stride``, halved at each
downscale). Width and heads double at the downscale blocks.

MViTv2 adds three things, each an option here so the same module also builds v1: decomposed relative position
terms (``rel_pos_embed``; temporal, height and width tables whose sum enters the attention logits as an additive
bias), the pooled query added back to the attention output (``residual_pooling``) and widening inside the
attention rather than in the MLP (``dim_mul_in_attention``). v1 uses separable absolute position embeddings
(``pos_embed="separable"``) and pools queries only where they are strided (``pool_q_every_layer=False``).

Attention goes through :func:`torch.nn.functional.scaled_dot_product_attention`; the relative position terms are
its ``attn_mask``. Module names follow MMAction2 so its checkpoints map one to one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from action_vit.layers import DropPath, Mlp

Size3 = tuple[int, int, int]
PosEmbed = Literal["none", "separable"]


def _triple(value: int | Sequence[int], name: str) -> Size3:
    if isinstance(value, int):
        return (value, value, value)
    items = tuple(int(v) for v in value)
    if len(items) != 3:
        raise ValueError(f"{name} needs 3 values (t, h, w), got {value!r}")
    return items  # type: ignore[return-value]


def attention_pool(
    x: torch.Tensor,
    pool: nn.Module | None,
    size: Size3,
    *,
    with_cls_token: bool,
    norm: nn.Module | None = None,
) -> tuple[torch.Tensor, Size3]:
    """Pool the patch tokens of ``x`` (B, heads, L, C) laid out on a ``size`` (T, H, W) grid.

    The class token (first token, when ``with_cls_token``) is kept as it is; ``norm`` runs after pooling on all
    tokens. Returns the pooled tokens and their new grid size.
    """
    if pool is None:
        return x, size
    batch, heads, _, channels = x.shape
    if with_cls_token:
        cls_token, x = x[:, :, :1], x[:, :, 1:]
    t, h, w = size
    x = x.reshape(batch * heads, t, h, w, channels).permute(0, 4, 1, 2, 3).contiguous()
    x = pool(x)
    out_size = (int(x.shape[2]), int(x.shape[3]), int(x.shape[4]))
    x = x.reshape(batch, heads, channels, -1).transpose(2, 3)
    if with_cls_token:
        x = torch.cat((cls_token, x), dim=2)
    if norm is not None:
        x = norm(x)
    return x, out_size


def relative_position_table(rel_pos: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """Embeddings (q_size, k_size, C) of the relative positions between a query and a key axis.

    ``rel_pos`` (L, C) is linearly resized to ``2 * max(q_size, k_size) - 1`` entries when it has another length,
    and coordinates of the shorter axis are stretched to the longer one (MViTv2's rule for pooled keys).
    """
    length = 2 * max(q_size, k_size) - 1
    if rel_pos.shape[0] != length:
        rel_pos = F.interpolate(rel_pos.transpose(0, 1).unsqueeze(0), size=length, mode="linear")
        rel_pos = rel_pos.squeeze(0).transpose(0, 1)
    q_ratio = max(k_size / q_size, 1.0)
    k_ratio = max(q_size / k_size, 1.0)
    q_coords = torch.arange(q_size, device=rel_pos.device)[:, None] * q_ratio
    k_coords = torch.arange(k_size, device=rel_pos.device)[None, :] * k_ratio
    coords = (q_coords - k_coords) + (k_size - 1) * k_ratio
    return rel_pos[coords.long()]


def decomposed_rel_pos_bias(
    q: torch.Tensor,
    q_size: Size3,
    k_size: Size3,
    rel_pos_t: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    *,
    with_cls_token: bool,
) -> torch.Tensor:
    """MViTv2's additive attention bias (B, heads, Lq, Lk): for a query at (t, h, w) and a key at (t', h', w'),
    ``q . Rt[t, t'] + q . Rh[h, h'] + q . Rw[w, w']``; rows and columns of the class token get zero."""
    batch, heads, _, channels = q.shape
    (qt, qh, qw), (kt, kh, kw) = q_size, k_size
    table_t = relative_position_table(rel_pos_t, qt, kt)
    table_h = relative_position_table(rel_pos_h, qh, kh)
    table_w = relative_position_table(rel_pos_w, qw, kw)
    patches = q[:, :, 1:] if with_cls_token else q
    patches = patches.reshape(batch, heads, qt, qh, qw, channels)
    rel_t = torch.einsum("bythwc,tkc->bythwk", patches, table_t)
    rel_h = torch.einsum("bythwc,hkc->bythwk", patches, table_h)
    rel_w = torch.einsum("bythwc,wkc->bythwk", patches, table_w)
    bias = (
        rel_t[:, :, :, :, :, :, None, None]
        + rel_h[:, :, :, :, :, None, :, None]
        + rel_w[:, :, :, :, :, None, None, :]
    ).reshape(batch, heads, qt * qh * qw, kt * kh * kw)
    if with_cls_token:
        bias = F.pad(bias, (1, 0, 1, 0))
    return bias


class MultiScaleAttention(nn.Module):
    """Pooling attention: qkv projection, depthwise-conv pooling of q, k and v, attention, output projection.

    ``input_size`` is the (T, H, W) token grid the block is built for; it sizes the relative position tables
    (other grids interpolate them). ``pool_q=False`` leaves the queries unpooled (MViT v1 away from the
    downscale blocks).
    """

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        num_heads: int,
        *,
        input_size: Size3,
        qkv_bias: bool = True,
        pool_kernel: Size3 = (3, 3, 3),
        stride_q: Size3 = (1, 1, 1),
        stride_kv: Size3 = (1, 1, 1),
        pool_q: bool = True,
        pool_norm_eps: float = 1e-6,
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        with_cls_token: bool = True,
    ) -> None:
        super().__init__()
        if out_dims % num_heads:
            raise ValueError(f"attention width {out_dims} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        self.out_dims = out_dims
        self.with_cls_token = with_cls_token
        self.residual_pooling = residual_pooling
        head_dims = out_dims // num_heads
        self.qkv = nn.Linear(in_dims, out_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dims, out_dims)
        padding = tuple(k // 2 for k in pool_kernel)

        def pooling(stride: Size3) -> tuple[nn.Conv3d, nn.LayerNorm]:
            conv = nn.Conv3d(
                head_dims,
                head_dims,
                pool_kernel,
                stride=stride,
                padding=padding,
                groups=head_dims,
                bias=False,
            )
            return conv, nn.LayerNorm(head_dims, eps=pool_norm_eps)

        self.pool_q: nn.Conv3d | None = None
        self.norm_q: nn.LayerNorm | None = None
        if pool_q:
            self.pool_q, self.norm_q = pooling(stride_q)
        self.pool_k, self.norm_k = pooling(stride_kv)
        self.pool_v, self.norm_v = pooling(stride_kv)
        self.rel_pos_embed = rel_pos_embed
        if rel_pos_embed:
            size = max(input_size[1:])
            spatial = 2 * max(size // stride_q[1], size // stride_kv[1]) - 1
            self.rel_pos_h = nn.Parameter(torch.zeros(spatial, head_dims))
            self.rel_pos_w = nn.Parameter(torch.zeros(spatial, head_dims))
            self.rel_pos_t = nn.Parameter(torch.zeros(2 * input_size[0] - 1, head_dims))
            for table in (self.rel_pos_h, self.rel_pos_w, self.rel_pos_t):
                nn.init.trunc_normal_(table, std=0.02)

    def forward(self, x: torch.Tensor, size: Size3) -> tuple[torch.Tensor, Size3]:
        """Attend over (B, L, C) tokens on a ``size`` grid; returns (B, L', out_dims) tokens and their grid."""
        batch, length, _ = x.shape
        q, k, v = self.qkv(x).reshape(batch, length, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        cls = self.with_cls_token
        q, q_size = attention_pool(q, self.pool_q, size, with_cls_token=cls, norm=self.norm_q)
        k, k_size = attention_pool(k, self.pool_k, size, with_cls_token=cls, norm=self.norm_k)
        v, _ = attention_pool(v, self.pool_v, size, with_cls_token=cls, norm=self.norm_v)
        bias = None
        if self.rel_pos_embed:
            bias = decomposed_rel_pos_bias(
                q, q_size, k_size, self.rel_pos_t, self.rel_pos_h, self.rel_pos_w, with_cls_token=cls
            )
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        if self.residual_pooling:
            if cls:
                out = torch.cat((out[:, :, :1], out[:, :, 1:] + q[:, :, 1:]), dim=2)
            else:
                out = out + q
        out = out.transpose(1, 2).reshape(batch, -1, self.out_dims)
        return self.proj(out), q_size


class MultiScaleBlock(nn.Module):
    """Pre-norm transformer block around :class:`MultiScaleAttention`; the skip path is max-pooled where the
    query is strided and projected (``proj``) where the width changes: after ``norm1`` when the attention
    widens (v2), after ``norm2`` when the MLP does (v1)."""

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        num_heads: int,
        *,
        input_size: Size3,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        norm_eps: float = 1e-6,
        pool_kernel: Size3 = (3, 3, 3),
        stride_q: Size3 = (1, 1, 1),
        stride_kv: Size3 = (1, 1, 1),
        pool_q: bool = True,
        pool_norm_eps: float = 1e-6,
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        with_cls_token: bool = True,
        dim_mul_in_attention: bool = True,
    ) -> None:
        super().__init__()
        self.with_cls_token = with_cls_token
        self.dim_mul_in_attention = dim_mul_in_attention
        attn_dims = out_dims if dim_mul_in_attention else in_dims
        self.norm1 = nn.LayerNorm(in_dims, eps=norm_eps)
        self.attn = MultiScaleAttention(
            in_dims,
            attn_dims,
            num_heads,
            input_size=input_size,
            qkv_bias=qkv_bias,
            pool_kernel=pool_kernel,
            stride_q=stride_q,
            stride_kv=stride_kv,
            pool_q=pool_q or math.prod(stride_q) > 1,
            pool_norm_eps=pool_norm_eps,
            rel_pos_embed=rel_pos_embed,
            residual_pooling=residual_pooling,
            with_cls_token=with_cls_token,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(attn_dims, eps=norm_eps)
        self.mlp = Mlp(attn_dims, int(attn_dims * mlp_ratio), out_dims)
        self.proj = nn.Linear(in_dims, out_dims) if in_dims != out_dims else None
        self.pool_skip: nn.MaxPool3d | None = None
        self.output_size = input_size
        if math.prod(stride_q) > 1:
            kernel = tuple(s + 1 if s > 1 else s for s in stride_q)
            self.pool_skip = nn.MaxPool3d(kernel, stride_q, tuple(k // 2 for k in kernel))
            self.output_size = tuple(n // s for n, s in zip(input_size, stride_q, strict=True))  # type: ignore[assignment]

    def forward(self, x: torch.Tensor, size: Size3) -> tuple[torch.Tensor, Size3]:
        """Tokens (B, L, in_dims) on a ``size`` grid -> tokens (B, L', out_dims) and their grid."""
        x_norm = self.norm1(x)
        x_attn, out_size = self.attn(x_norm, size)
        skip = self.proj(x_norm) if self.dim_mul_in_attention and self.proj is not None else x
        if self.pool_skip is not None:
            skip, _ = attention_pool(
                skip.unsqueeze(1), self.pool_skip, size, with_cls_token=self.with_cls_token
            )
            skip = skip.squeeze(1)
        x = skip + self.drop_path(x_attn)
        x_norm = self.norm2(x)
        skip = self.proj(x_norm) if not self.dim_mul_in_attention and self.proj is not None else x
        return skip + self.drop_path(self.mlp(x_norm)), out_size


class PatchEmbed3D(nn.Module):
    """Overlapping 3D convolution from pixels to patch tokens (B, T'H'W', C) and their (T', H', W') grid."""

    def __init__(
        self, in_channels: int, embed_dims: int, *, kernel_size: Size3, stride: Size3, padding: Size3
    ) -> None:
        super().__init__()
        self.projection = nn.Conv3d(in_channels, embed_dims, kernel_size, stride=stride, padding=padding)

    def output_size(self, input_size: Size3) -> Size3:
        """Token grid for a (T, H, W) clip."""
        conv = self.projection
        return tuple(  # type: ignore[return-value]
            (n + 2 * p - k) // s + 1
            for n, k, s, p in zip(input_size, conv.kernel_size, conv.stride, conv.padding, strict=True)  # type: ignore[arg-type]
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Size3]:
        """Tokens of an (N, C, T, H, W) clip."""
        x = self.projection(x)
        size = (int(x.shape[2]), int(x.shape[3]), int(x.shape[4]))
        return x.flatten(2).transpose(1, 2), size


class MViT(nn.Module):
    """Multiscale Vision Transformer backbone; input (N, C, T, H, W), output ``(patch_tokens, cls_token)``:
    the final-norm patch tokens as an (N, C', T', H', W') map and the class token (N, C') (``None`` without one).

    ``downscale_indices``: blocks that stride the query by (1, 2, 2) and, by default, double the width
    (``dim_mul``) and the heads (``head_mul``). ``spatial_size`` / ``temporal_size``: the clip size the relative
    position tables (or the absolute embeddings) are built for. The defaults are MMAction2's ``arch='small'``.
    """

    def __init__(
        self,
        *,
        embed_dims: int = 96,
        num_layers: int = 16,
        num_heads: int = 1,
        downscale_indices: Sequence[int] = (1, 3, 14),
        dim_mul_indices: Sequence[int] | None = None,
        spatial_size: int = 224,
        temporal_size: int = 16,
        in_channels: int = 3,
        patch_kernel: int | Sequence[int] = (3, 7, 7),
        patch_stride: int | Sequence[int] = (2, 4, 4),
        patch_padding: int | Sequence[int] = (1, 3, 3),
        pool_kernel: int | Sequence[int] = (3, 3, 3),
        dim_mul: int = 2,
        head_mul: int = 2,
        adaptive_kv_stride: int | Sequence[int] = (1, 8, 8),
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        dim_mul_in_attention: bool = True,
        pool_q_every_layer: bool = True,
        with_cls_token: bool = True,
        pos_embed: PosEmbed = "none",
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        norm_eps: float = 1e-6,
        pool_norm_eps: float = 1e-6,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if pos_embed not in ("none", "separable"):
            raise ValueError(f"pos_embed must be 'none' or 'separable', got {pos_embed!r}")
        if any(not 0 <= i < num_layers for i in downscale_indices):
            raise ValueError(
                f"downscale_indices {list(downscale_indices)} must lie in [0, num_layers={num_layers})"
            )
        dim_mul_at = set(downscale_indices if dim_mul_indices is None else dim_mul_indices)
        self.embed_dims = embed_dims
        self.with_cls_token = with_cls_token
        self.patch_embed = PatchEmbed3D(
            in_channels,
            embed_dims,
            kernel_size=_triple(patch_kernel, "patch_kernel"),
            stride=_triple(patch_stride, "patch_stride"),
            padding=_triple(patch_padding, "patch_padding"),
        )
        self.patch_grid = self.patch_embed.output_size((temporal_size, spatial_size, spatial_size))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims)) if with_cls_token else None
        self.pos_embed = pos_embed
        if pos_embed == "separable":
            t, h, w = self.patch_grid
            self.pos_embed_spatial = nn.Parameter(torch.zeros(1, h * w, embed_dims))
            self.pos_embed_temporal = nn.Parameter(torch.zeros(1, t, embed_dims))
            self.pos_embed_class = nn.Parameter(torch.zeros(1, 1, embed_dims)) if with_cls_token else None

        kernel = _triple(pool_kernel, "pool_kernel")
        stride_kv = _triple(adaptive_kv_stride, "adaptive_kv_stride")
        drop_paths = [drop_path_rate * i / max(num_layers - 1, 1) for i in range(num_layers)]
        self.blocks = nn.ModuleList()
        dims, heads, size = embed_dims, num_heads, self.patch_grid
        for i in range(num_layers):
            stride_q: Size3 = (1, 1, 1)
            if i in downscale_indices or i in dim_mul_at:
                heads *= head_mul
            if i in downscale_indices:
                stride_q = (1, 2, 2)
                stride_kv = tuple(max(s // 2, 1) for s in stride_kv)  # type: ignore[assignment]
            widen = i in dim_mul_at if dim_mul_in_attention else i + 1 in dim_mul_at
            out_dims = dims * dim_mul if widen else dims
            block = MultiScaleBlock(
                dims,
                out_dims,
                heads,
                input_size=size,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop_path=drop_paths[i],
                norm_eps=norm_eps,
                pool_kernel=kernel,
                stride_q=stride_q,
                stride_kv=stride_kv,
                pool_q=pool_q_every_layer,
                pool_norm_eps=pool_norm_eps,
                rel_pos_embed=rel_pos_embed,
                residual_pooling=residual_pooling,
                with_cls_token=with_cls_token,
                dim_mul_in_attention=dim_mul_in_attention,
            )
            self.blocks.append(block)
            dims, size = out_dims, block.output_size
        self.out_channels = dims
        self.norm = nn.LayerNorm(dims, eps=norm_eps)
        self.init_weights()

    def init_weights(self) -> None:
        """MMAction2's initialisation: truncated normal (std 0.02) convolutions and linear layers, linear biases
        and LayerNorm biases 0.02, LayerNorm weights 1; class token and absolute embeddings truncated normal."""
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0.02)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.constant_(module.bias, 0.02)
        for name in ("cls_token", "pos_embed_spatial", "pos_embed_temporal", "pos_embed_class"):
            param = getattr(self, name, None)
            if param is not None:
                nn.init.trunc_normal_(param, std=0.02)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(patch_tokens (N, C', T', H', W'), cls_token (N, C') or None)`` of an (N, C, T, H, W) clip."""
        x, size = self.patch_embed(x)
        if self.cls_token is not None:
            x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        if self.pos_embed == "separable":
            x = x + self._separable_pos_embed(size)
        for block in self.blocks:
            x, size = block(x, size)
        x = self.norm(x)
        cls_token = x[:, 0] if self.with_cls_token else None
        patches = x[:, 1:] if self.with_cls_token else x
        patches = patches.transpose(1, 2).reshape(x.shape[0], x.shape[2], *size)
        return patches, cls_token

    def _separable_pos_embed(self, size: Size3) -> torch.Tensor:
        if size != self.patch_grid:
            raise ValueError(
                f"this MViT has absolute position embeddings for a {self.patch_grid} token grid (built for its "
                f"spatial_size/temporal_size) but the clip gives {size}; resize the input or rebuild the model "
                "with matching spatial_size and temporal_size"
            )
        t, hw = self.pos_embed_temporal.shape[1], self.pos_embed_spatial.shape[1]
        pos = self.pos_embed_spatial.repeat(1, t, 1) + torch.repeat_interleave(
            self.pos_embed_temporal, hw, dim=1
        )
        if self.pos_embed_class is not None:
            pos = torch.cat((self.pos_embed_class, pos), dim=1)
        return pos
