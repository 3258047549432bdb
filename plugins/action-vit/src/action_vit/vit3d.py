"""The plain video ViT of VideoMAE (MMAction2's ``VisionTransformer``): tubelet patches, joint space-time
attention over every token, mean pooling.

A clip (N, C, T, H, W) is cut into ``tubelet_size`` x ``patch_size`` x ``patch_size`` tubelets by a strided
Conv3d, a position embedding is added (the fixed sine-cosine table, or a learned one), pre-norm transformer
blocks attend over all T/2 * H/16 * W/16 tokens jointly, and the tokens are averaged and normalised
(``fc_norm``) into one feature vector per clip.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from action_vit.layers import (
    DropPath,
    Mlp,
    MultiheadSelfAttention,
    init_transformer_weights,
    sinusoid_position_encoding,
)

__all__ = ["Block", "TubeletEmbed", "VisionTransformer3D", "vit3d_backbone"]


class TubeletEmbed(nn.Module):
    """Non-overlapping ``tubelet_size`` x ``patch_size`` x ``patch_size`` tubelets of a clip, linearly embedded
    (a strided Conv3d): (N, C, T, H, W) -> (N, T/t * H/p * W/p, embed_dims), time-major token order."""

    def __init__(self, in_channels: int, embed_dims: int, *, patch_size: int, tubelet_size: int) -> None:
        super().__init__()
        size = (tubelet_size, patch_size, patch_size)
        self.projection = nn.Conv3d(in_channels, embed_dims, kernel_size=size, stride=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (N, L, embed_dims) of an (N, C, T, H, W) clip."""
        return self.projection(x).flatten(2).transpose(1, 2)


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``, each branch optionally
    scaled per channel (``gamma_1`` / ``gamma_2``, LayerScale, when ``init_values > 0``)."""

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        *,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        init_values: float = 0.0,
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = MultiheadSelfAttention(
            embed_dims,
            num_heads,
            bias="qv" if qkv_bias else "none",
            scale=qk_scale,
            attn_drop=attn_drop_rate,
            proj_drop=drop_rate,
        )
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), drop=drop_rate)
        if init_values > 0:
            self.gamma_1 = nn.Parameter(torch.full((embed_dims,), float(init_values)))
            self.gamma_2 = nn.Parameter(torch.full((embed_dims,), float(init_values)))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, N, C)."""
        if self.gamma_1 is None:
            x = x + self.drop_path(self.attn(self.norm1(x)))
            return x + self.drop_path(self.mlp(self.norm2(x)))
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


class VisionTransformer3D(nn.Module):
    """VideoMAE's ViT; input (N, C, T, H, W) with T = ``num_frames``, output (N, ``embed_dims``) features.

    With ``use_mean_pooling`` (VideoMAE fine-tuning) the output is ``fc_norm`` of the token mean; otherwise it
    is the first token after a final ``norm``. Inputs of another spatial size than ``img_size`` get the
    position table resized per frame (bicubic, as MMAction2); the frame count must be ``num_frames``.
    The fixed sine-cosine table is a non-persistent buffer (recomputed from the configuration, never stored
    in checkpoints); ``use_learnable_pos_emb`` makes it a trained parameter ``pos_embed`` instead.
    """

    def __init__(
        self,
        *,
        img_size: int = 224,
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_eps: float = 1e-6,
        fc_norm_eps: float | None = None,
        init_values: float = 0.0,
        use_learnable_pos_emb: bool = False,
        num_frames: int = 16,
        tubelet_size: int = 2,
        use_mean_pooling: bool = True,
    ) -> None:
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f"img_size ({img_size}) must be a multiple of patch_size ({patch_size})")
        if num_frames % tubelet_size:
            raise ValueError(f"num_frames ({num_frames}) must be a multiple of tubelet_size ({tubelet_size})")
        self.embed_dims = embed_dims
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.num_frames = num_frames
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.feat_dim = embed_dims
        self.patch_embed = TubeletEmbed(
            in_channels, embed_dims, patch_size=patch_size, tubelet_size=tubelet_size
        )
        num_patches = self.grid_size[0] * self.grid_size[1] * (num_frames // tubelet_size)
        if use_learnable_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, embed_dims))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        else:
            table = sinusoid_position_encoding(num_patches, embed_dims)
            device = self.patch_embed.projection.weight.device
            self.register_buffer("pos_embed", table.to(device), persistent=False)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList(
            Block(
                embed_dims,
                num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate,
                drop_path_rate=rate,
                init_values=init_values,
                norm_eps=norm_eps,
            )
            for rate in rates
        )
        fc_eps = norm_eps if fc_norm_eps is None else fc_norm_eps
        if use_mean_pooling:
            self.norm: nn.Module = nn.Identity()
            self.fc_norm: nn.Module | None = nn.LayerNorm(embed_dims, eps=fc_eps)
        else:
            self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
            self.fc_norm = None
        init_transformer_weights(self)
        # LayerScale starts at init_values, not at the generic initialisation
        for block in self.blocks:
            if block.gamma_1 is not None:
                nn.init.constant_(block.gamma_1, float(init_values))
                nn.init.constant_(block.gamma_2, float(init_values))

    def position_embedding(self, grid: tuple[int, int]) -> torch.Tensor:
        """The position table for a ``grid`` of (h, w) patches per tubelet slice."""
        if grid == self.grid_size:
            return self.pos_embed
        table = self.pos_embed.reshape(-1, *self.grid_size, self.embed_dims).permute(0, 3, 1, 2)
        table = F.interpolate(table, size=grid, mode="bicubic", align_corners=False)
        return table.permute(0, 2, 3, 1).reshape(1, -1, self.embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) clip -> (N, embed_dims) feature."""
        if x.shape[2] != self.num_frames:
            raise ValueError(
                f"{type(self).__name__} was built for num_frames={self.num_frames}, got a clip of "
                f"{x.shape[2]} frames (input {tuple(x.shape)}); build it with num_frames={x.shape[2]}"
            )
        grid = (x.shape[3] // self.patch_size, x.shape[4] // self.patch_size)
        x = self.patch_embed(x)
        x = self.pos_drop(x + self.position_embedding(grid))
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        if self.fc_norm is not None:
            return self.fc_norm(x.mean(1))
        return x[:, 0]


def vit3d_backbone(**kwargs: object) -> VisionTransformer3D:
    """Registered builder of :class:`VisionTransformer3D` (keyword arguments as the class)."""
    return VisionTransformer3D(**kwargs)  # type: ignore[arg-type]
