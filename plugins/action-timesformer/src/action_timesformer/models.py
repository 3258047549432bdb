"""TimeSformer (Bertasius et al. 2021) with divided space-time attention, in MMAction2's form.

Each frame is cut into 16x16 patches (a strided Conv2d); a class token, a learned spatial position embedding
(per frame) and a learned time embedding (per patch position) are added. Every block first attends over time
(each patch position across the T frames, followed by ``temporal_fc``), then over space (the patches of each
frame together with a per-frame copy of the class token, whose T outputs are averaged), then applies the MLP,
each with a pre-norm residual. The normalised class token is the clip feature; a linear head classifies it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from action_core.api import Recognizer3D, WeightsInfo, compose_model, mmaction2_weights
from action_vit.layers import DropPath, Mlp, MultiheadSelfAttention, init_transformer_weights, lecun_normal_

__all__ = [
    "WEIGHTS",
    "DividedSpaceTimeBlock",
    "FramePatchEmbed",
    "TimeSformer",
    "timesformer_backbone",
    "timesformer_divst",
    "timesformer_divst_parts",
]


class FramePatchEmbed(nn.Module):
    """Non-overlapping ``patch_size`` x ``patch_size`` patches of every frame, linearly embedded (a strided
    Conv2d): (N, C, T, H, W) -> (N*T, H/p * W/p, embed_dims)."""

    def __init__(self, in_channels: int, embed_dims: int, *, patch_size: int) -> None:
        super().__init__()
        self.projection = nn.Conv2d(in_channels, embed_dims, patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-frame patch tokens, frames folded into the batch (frame-minor)."""
        x = x.transpose(1, 2).flatten(0, 1)
        return self.projection(x).flatten(2).transpose(1, 2)


class DividedSpaceTimeBlock(nn.Module):
    """One TimeSformer block over (B, 1 + P*T, C) tokens: class token first, then patch-major, time-minor
    (token ``1 + p*T + t`` is patch ``p`` of frame ``t``)."""

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        num_frames: int,
        *,
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.temporal_norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.temporal_attn = MultiheadSelfAttention(embed_dims, num_heads, attn_drop=attn_drop_rate)
        self.temporal_fc = nn.Linear(embed_dims, embed_dims)
        self.spatial_norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.spatial_attn = MultiheadSelfAttention(embed_dims, num_heads, attn_drop=attn_drop_rate)
        self.ffn_norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio))
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1 + P*T, C) -> (B, 1 + P*T, C)."""
        batch, _, channels = x.shape
        frames = self.num_frames
        cls_token, patches = x[:, :1], x[:, 1:]
        positions = patches.shape[1] // frames

        # time: each patch position attends over its T frames
        temporal = self.temporal_attn(
            self.temporal_norm(patches.reshape(batch * positions, frames, channels))
        )
        temporal = self.temporal_fc(self.drop_path(temporal)).reshape(batch, positions * frames, channels)
        patches = patches + temporal

        # space: the patches of each frame with that frame's copy of the class token
        spatial = patches.reshape(batch, positions, frames, channels).transpose(1, 2)
        spatial = spatial.reshape(batch * frames, positions, channels)
        frame_cls = cls_token.expand(batch, frames, channels).reshape(batch * frames, 1, channels)
        spatial = self.drop_path(self.spatial_attn(self.spatial_norm(torch.cat((frame_cls, spatial), dim=1))))
        cls_update = spatial[:, 0].reshape(batch, frames, channels).mean(dim=1, keepdim=True)
        patch_update = spatial[:, 1:].reshape(batch, frames, positions, channels).transpose(1, 2)
        x = torch.cat((cls_token, patches), dim=1) + torch.cat(
            (cls_update, patch_update.reshape(batch, positions * frames, channels)), dim=1
        )
        return x + self.drop_path(self.mlp(self.ffn_norm(x)))


class TimeSformer(nn.Module):
    """TimeSformer backbone with divided space-time attention; input (N, C, T, H, W) with T = ``num_frames``
    and H = W = ``img_size``, output the (N, ``embed_dims``) normalised class token.

    ``drop_path_rate`` is the last block's stochastic-depth rate (linear from 0; MMAction2 fixes it at 0.1).
    """

    def __init__(
        self,
        *,
        num_frames: int = 8,
        img_size: int = 224,
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        num_heads: int = 12,
        num_layers: int = 12,
        mlp_ratio: float = 4.0,
        dropout_ratio: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f"img_size ({img_size}) must be a multiple of patch_size ({patch_size})")
        self.num_frames = num_frames
        self.img_size = img_size
        self.embed_dims = embed_dims
        self.feat_dim = embed_dims
        num_patches = (img_size // patch_size) ** 2
        self.patch_embed = FramePatchEmbed(in_channels, embed_dims, patch_size=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dims))
        self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dims))
        self.drop_after_pos = nn.Dropout(dropout_ratio)
        self.drop_after_time = nn.Dropout(dropout_ratio)
        rates = [drop_path_rate * i / max(num_layers - 1, 1) for i in range(num_layers)]
        self.layers = nn.ModuleList(
            DividedSpaceTimeBlock(
                embed_dims,
                num_heads,
                num_frames,
                mlp_ratio=mlp_ratio,
                drop_path_rate=rate,
                attn_drop_rate=attn_drop_rate,
                norm_eps=norm_eps,
            )
            for rate in rates
        )
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.init_weights()

    def init_weights(self) -> None:
        """MMAction2's initialisation: truncated-normal (0.02) tokens and embeddings, LeCun-normal patch
        projection, zero ``temporal_fc`` (each block starts as a spatial-only ViT block)."""
        init_transformer_weights(self)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        lecun_normal_(self.patch_embed.projection.weight)
        nn.init.zeros_(self.patch_embed.projection.bias)
        for layer in self.layers:
            nn.init.zeros_(layer.temporal_fc.weight)
            nn.init.zeros_(layer.temporal_fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, H, W) clip -> (N, embed_dims) feature."""
        batch, _, frames, height, width = x.shape
        if frames != self.num_frames or height != self.img_size or width != self.img_size:
            raise ValueError(
                f"{type(self).__name__} was built for {self.num_frames} frames of {self.img_size}x"
                f"{self.img_size}, got input {tuple(x.shape)}; build it with num_frames / img_size to match"
            )
        x = self.patch_embed(x)  # (N*T, P, C)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = self.drop_after_pos(x + self.pos_embed)
        cls_token = x[:batch, :1]
        patches = x[:, 1:].reshape(batch, frames, -1, self.embed_dims).transpose(1, 2)  # (N, P, T, C)
        patches = self.drop_after_time(patches + self.time_embed[:, None])
        x = torch.cat((cls_token, patches.flatten(1, 2)), dim=1)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)[:, 0]


_CONFIG = "timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb"
WEIGHTS: dict[str, WeightsInfo] = {
    _CONFIG: mmaction2_weights(
        "timesformer",
        _CONFIG,
        "20220815-a4d0d01f",
        converter="mmaction2_timesformer",
        dataset="kinetics400",
        metrics={"top1": 77.69, "top5": 93.45},
        num_params=121_566_352,
    ),
}


def timesformer_backbone(
    *,
    num_frames: int = 8,
    img_size: int = 224,
    patch_size: int = 16,
    in_channels: int = 3,
    embed_dims: int = 768,
    num_heads: int = 12,
    num_layers: int = 12,
    mlp_ratio: float = 4.0,
    dropout_ratio: float = 0.0,
    attn_drop_rate: float = 0.0,
    drop_path_rate: float = 0.1,
    norm_eps: float = 1e-6,
) -> TimeSformer:
    """Registered builder of the :class:`TimeSformer` backbone (``[model.backbone] type = "timesformer"``)."""
    return TimeSformer(
        num_frames=num_frames,
        img_size=img_size,
        patch_size=patch_size,
        in_channels=in_channels,
        embed_dims=embed_dims,
        num_heads=num_heads,
        num_layers=num_layers,
        mlp_ratio=mlp_ratio,
        dropout_ratio=dropout_ratio,
        attn_drop_rate=attn_drop_rate,
        drop_path_rate=drop_path_rate,
        norm_eps=norm_eps,
    )


def timesformer_divst_parts(
    *,
    num_classes: int = 400,
    num_frames: int = 8,
    img_size: int = 224,
    patch_size: int = 16,
    embed_dims: int = 768,
    num_heads: int = 12,
    num_layers: int = 12,
    mlp_ratio: float = 4.0,
    dropout_ratio: float = 0.0,
    drop_path_rate: float = 0.1,
    norm_eps: float = 1e-6,
    head_dropout_ratio: float = 0.0,
    init_std: float = 0.02,
    weights: Any = None,
    weights_backbone_only: bool = False,
) -> dict[str, Any]:
    """The composition of :func:`timesformer_divst` for the same arguments: a ``Recognizer3D`` of the
    ``timesformer`` backbone and ``timesformer_head`` (``action-run config show NAME --expand`` prints it).

    ``weights``: a name in ``WEIGHTS`` (MMAction2's Kinetics-400 checkpoint), a checkpoint path (MMAction2 or
    transformers layout, the converter is found by fit) or a loaded checkpoint, loaded by core's
    ``load_weights`` once built; ``weights_backbone_only`` loads only its ``backbone.*`` tensors.
    """
    return {
        "type": "Recognizer3D",
        "clip_len": num_frames,  # the frame count core's tools (flops, export, bench) default to
        "backbone": {
            "type": "timesformer",
            "num_frames": num_frames,
            "img_size": img_size,
            "patch_size": patch_size,
            "embed_dims": embed_dims,
            "num_heads": num_heads,
            "num_layers": num_layers,
            "mlp_ratio": mlp_ratio,
            "dropout_ratio": dropout_ratio,
            "drop_path_rate": drop_path_rate,
            "norm_eps": norm_eps,
        },
        "head": {
            "type": "timesformer_head",
            "num_classes": num_classes,
            "in_channels": embed_dims,
            "dropout_ratio": head_dropout_ratio,
            "init_std": init_std,
        },
        "weights": weights,
        "weights_backbone_only": weights_backbone_only,
    }


def timesformer_divst(**kwargs: Any) -> Recognizer3D:
    """TimeSformer-divST ViT-B/16 classifier; input (N, 3, 8, 224, 224), output logits (N, num_classes).
    121,566,352 parameters with 400 classes. Arguments (and their defaults) as :func:`timesformer_divst_parts`,
    which this builds."""
    return compose_model(timesformer_divst_parts(**kwargs))
