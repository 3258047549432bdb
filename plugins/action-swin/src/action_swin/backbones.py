"""Video Swin Transformer (Liu et al. 2022) in MMAction2's ``SwinTransformer3D`` layout.

A non-overlapping 3D convolution embeds (2, 4, 4) patches; four stages of transformer blocks follow, joined by
patch merging (2x2 spatial neighbours concatenated, normalised and projected to twice the width). Every block
attends within 3D windows (8, 7, 7 tokens by default); every second block shifts the windows by half their size
(a cyclic roll, with a mask that keeps tokens from attending across the wrap-around). A window is reduced to the
feature size where the feature is smaller, and then that axis is not shifted. Windows carry a learned relative
position bias table indexed by the 3D offset between two tokens.

Attention goes through :func:`torch.nn.functional.scaled_dot_product_attention`; the relative position bias and the
shift mask are its additive ``attn_mask``. Tensors stay channels-last (B, D, H, W, C) inside the backbone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from action_vit.layers import DropPath, Mlp

Size3 = tuple[int, int, int]

#: What the shift mask adds to the logits of token pairs from different regions (MMAction2's value, not -inf).
MASK_VALUE = -100.0


def _triple(value: int | Sequence[int], name: str) -> Size3:
    if isinstance(value, int):
        return (value, value, value)
    items = tuple(int(v) for v in value)
    if len(items) != 3:
        raise ValueError(f"{name} needs 3 values (t, h, w), got {value!r}")
    return items  # type: ignore[return-value]


def effective_window(size: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """Window and shift for a (D, H, W) feature: an axis no longer than the window is covered by one window of
    its own length and not shifted."""
    use_window = tuple(s if s <= w else w for s, w in zip(size, window, strict=True))
    use_shift = tuple(0 if s <= w else h for s, w, h in zip(size, window, shift, strict=True))
    return use_window, use_shift  # type: ignore[return-value]


def window_partition(x: torch.Tensor, window: Size3) -> torch.Tensor:
    """(B, D, H, W, C) -> (B * num_windows, window volume, C); D, H, W must be multiples of the window."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def window_reverse(windows: torch.Tensor, window: Size3, size: tuple[int, int, int, int]) -> torch.Tensor:
    """(B * num_windows, window volume, C) -> (B, D, H, W, C) for ``size`` = (B, D, H, W)."""
    b, d, h, w = size
    x = windows.view(b, d // window[0], h // window[1], w // window[2], window[0], window[1], window[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def shift_mask(size: Size3, window: Size3, shift: Size3, device: torch.device) -> torch.Tensor:
    """Additive mask (num_windows, N, N) of shifted-window attention over a padded (D, H, W) feature.

    After the cyclic roll, the last ``window`` positions of an axis hold tokens from up to two regions (before
    and after ``size - shift``); token pairs from different regions get :data:`MASK_VALUE`.
    """
    regions = []
    for length, win, sft in zip(size, window, shift, strict=True):
        pos = torch.arange(length, device=device)
        if sft > 0:
            regions.append((pos >= length - win).long() + (pos >= length - sft).long())
        else:
            regions.append(torch.zeros_like(pos))
    ids = regions[0][:, None, None] * 9 + regions[1][None, :, None] * 3 + regions[2][None, None, :]
    ids = window_partition(ids[None, :, :, :, None], window).squeeze(-1)
    diff = ids[:, None, :] - ids[:, :, None]
    return torch.zeros(diff.shape, device=device).masked_fill(diff != 0, MASK_VALUE)


def relative_position_index(window: Size3) -> torch.Tensor:
    """(N, N) index into the (2Wd-1)(2Wh-1)(2Ww-1)-row bias table of every token pair of a window."""
    coords = torch.stack(torch.meshgrid(*(torch.arange(w) for w in window), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel = rel + torch.tensor([w - 1 for w in window])
    return (
        rel[..., 0] * (2 * window[1] - 1) * (2 * window[2] - 1)
        + rel[..., 1] * (2 * window[2] - 1)
        + rel[..., 2]
    )


class WindowAttention3D(nn.Module):
    """Multi-head self-attention within windows, with a relative position bias per head.

    A window reduced below ``window_size`` (a small feature) uses the top-left block of the bias index, as
    MMAction2 and torchvision do.
    """

    def __init__(self, embed_dims: int, window_size: Size3, num_heads: int, *, qkv_bias: bool = True) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f"embed_dims {embed_dims} is not divisible by num_heads={num_heads}")
        self.num_heads = num_heads
        table = (2 * window_size[0] - 1) * (2 * window_size[1] - 1) * (2 * window_size[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table, num_heads))
        self.register_buffer("relative_position_index", relative_position_index(window_size))
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention within each window of ``x`` (B * num_windows, N, C); ``mask`` (num_windows, N, N)."""
        windows, n, c = x.shape
        q, k, v = self.qkv(x).reshape(windows, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        index = self.relative_position_index[:n, :n].reshape(-1)
        bias = self.relative_position_bias_table[index].reshape(n, n, -1).permute(2, 0, 1)
        if mask is None:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            # (B, num_windows * heads, N, d): the per-window mask broadcasts over the batch without a copy per
            # clip, and attention stays 4-D (as ONNX and the fused kernels want it)
            per_window = mask.shape[0]
            shape = (windows // per_window, per_window * self.num_heads, n, -1)
            bias = (bias.unsqueeze(0) + mask.unsqueeze(1)).reshape(per_window * self.num_heads, n, n)
            out = F.scaled_dot_product_attention(
                q.reshape(shape), k.reshape(shape), v.reshape(shape), attn_mask=bias
            )
            out = out.reshape(windows, self.num_heads, n, -1)
        return self.proj(out.transpose(1, 2).reshape(windows, n, c))


class SwinBlock3D(nn.Module):
    """Pre-norm block: (shifted) window attention, then an MLP, each with a residual connection."""

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        *,
        window_size: Size3 = (8, 7, 7),
        shift_size: Size3 = (0, 0, 0),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if any(not 0 <= s < w for s, w in zip(shift_size, window_size, strict=True)):
            raise ValueError(f"shift_size {shift_size} must lie in [0, window_size {window_size})")
        self.window_size = window_size
        self.shift_size = shift_size
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = WindowAttention3D(embed_dims, window_size, num_heads, qkv_bias=qkv_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), embed_dims)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """(B, D, H, W, C) -> same; ``mask`` is the stage's shift mask (used only by shifted blocks)."""
        x = x + self.drop_path(self._attention(self.norm1(x), mask))
        return x + self.drop_path(self.mlp(self.norm2(x)))

    def _attention(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, d, h, w, _ = x.shape
        window, shift = effective_window((d, h, w), self.window_size, self.shift_size)
        pad = [(win - n % win) % win for n, win in zip((d, h, w), window, strict=True)]
        x = F.pad(x, (0, 0, 0, pad[2], 0, pad[1], 0, pad[0]))
        padded = (b, d + pad[0], h + pad[1], w + pad[2])
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        out = self.attn(window_partition(x, window), mask=mask if shifted else None)
        x = window_reverse(out, window, padded)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        if any(pad):
            x = x[:, :d, :h, :w, :].contiguous()
        return x


class PatchMerging(nn.Module):
    """Halves H and W: concatenates each 2x2 neighbourhood (odd sizes zero-padded), LayerNorm, linear to 2C."""

    def __init__(self, embed_dims: int, *, norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.out_dims = 2 * embed_dims
        self.reduction = nn.Linear(4 * embed_dims, 2 * embed_dims, bias=False)
        self.norm = nn.LayerNorm(4 * embed_dims, eps=norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D, H, W, C) -> (B, D, ceil(H/2), ceil(W/2), 2C)."""
        h, w = x.shape[2], x.shape[3]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat(
            [x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], dim=-1
        )
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    """Blocks of one stage (alternately unshifted and shifted by half a window), then patch merging if any."""

    def __init__(
        self,
        embed_dims: int,
        depth: int,
        num_heads: int,
        *,
        window_size: Size3,
        mlp_ratio: float,
        qkv_bias: bool,
        drop_paths: Sequence[float],
        norm_eps: float,
        downsample: bool,
    ) -> None:
        super().__init__()
        self.window_size = window_size
        self.shift_size: Size3 = tuple(w // 2 for w in window_size)  # type: ignore[assignment]
        self.blocks = nn.ModuleList(
            SwinBlock3D(
                embed_dims,
                num_heads,
                window_size=window_size,
                shift_size=(0, 0, 0) if i % 2 == 0 else self.shift_size,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop_path=drop_paths[i],
                norm_eps=norm_eps,
            )
            for i in range(depth)
        )
        self.downsample = PatchMerging(embed_dims, norm_eps=norm_eps) if downsample else None
        self.out_dims = self.downsample.out_dims if self.downsample is not None else embed_dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D, H, W, C) -> the stage's output (merged when the stage has patch merging)."""
        _, d, h, w, _ = x.shape
        window, shift = effective_window((d, h, w), self.window_size, self.shift_size)
        mask = None
        if len(self.blocks) > 1 and any(s > 0 for s in shift):
            padded = tuple(-(-n // win) * win for n, win in zip((d, h, w), window, strict=True))
            mask = shift_mask(padded, window, shift, x.device)  # type: ignore[arg-type]
        for block in self.blocks:
            x = block(x, mask)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed3D(nn.Module):
    """Non-overlapping 3D patches (input zero-padded to multiples of ``patch_size``), optional LayerNorm."""

    def __init__(
        self, patch_size: Size3, in_channels: int, embed_dims: int, *, norm_eps: float | None
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv3d(in_channels, embed_dims, kernel_size=patch_size, stride=patch_size)
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps) if norm_eps is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) -> channels-last tokens (N, T', H', W', embed_dims)."""
        pad = [(p - n % p) % p for n, p in zip(x.shape[2:], self.patch_size, strict=True)]
        if any(pad):
            x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
        x = self.proj(x).permute(0, 2, 3, 4, 1)
        return self.norm(x) if self.norm is not None else x


class SwinTransformer3D(nn.Module):
    """Video Swin backbone: input (N, C, T, H, W), output the normalised last-stage map (N, C', T', H', W').

    ``embed_dims`` / ``depths`` / ``num_heads`` default to MMAction2's ``arch='tiny'``.
    """

    def __init__(
        self,
        *,
        embed_dims: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        patch_size: int | Sequence[int] = (2, 4, 4),
        in_channels: int = 3,
        window_size: int | Sequence[int] = (8, 7, 7),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        patch_norm: bool = True,
        norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if len(depths) != len(num_heads) or not 1 <= len(depths) <= 4:
            raise ValueError(
                f"depths {list(depths)} and num_heads {list(num_heads)} need the same length, 1 to 4"
            )
        self.embed_dims = embed_dims
        self.patch_embed = PatchEmbed3D(
            _triple(patch_size, "patch_size"),
            in_channels,
            embed_dims,
            norm_eps=norm_eps if patch_norm else None,
        )
        self.pos_drop = nn.Dropout(p=drop_rate)
        total = sum(depths)
        rates = [drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        window = _triple(window_size, "window_size")
        self.layers = nn.ModuleList()
        dims, start = embed_dims, 0
        for i, (depth, heads) in enumerate(zip(depths, num_heads, strict=True)):
            stage = SwinStage(
                dims,
                depth,
                heads,
                window_size=window,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop_paths=rates[start : start + depth],
                norm_eps=norm_eps,
                downsample=i < len(depths) - 1,
            )
            self.layers.append(stage)
            dims, start = stage.out_dims, start + depth
        self.out_channels = dims
        self.norm = nn.LayerNorm(dims, eps=norm_eps)
        self.init_weights()

    def init_weights(self) -> None:
        """MMAction2's initialisation: truncated normal (std 0.02) linear weights, zero biases, unit LayerNorms."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Last-stage features (N, C', T', H', W') of an (N, C, T, H, W) clip."""
        x = self.pos_drop(self.patch_embed(x))
        for layer in self.layers:
            x = layer(x)
        return self.norm(x).permute(0, 4, 1, 2, 3).contiguous()
