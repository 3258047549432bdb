"""ImageNet Swin weights inflated into the video Swin backbone (MMAction2's ``pretrained2d`` recipe).

The patch embedding's 2D kernel is repeated over the temporal patch size and divided by it; each 2D relative
position bias table ((2Wh-1)(2Ww-1) rows, bicubically resized when the window differs) is repeated for every
temporal offset; everything else is copied. 2D weights come from torchvision (``swin_t/s/b`` ImageNet-1k) or a
file in the original Swin / MMAction2 layout (``patch_embed.*``, ``layers.*``, ``norm.*``) or torchvision's.

Reading goes through core: :func:`inflate_pretrained` hands the source to ``load_weights`` with the inflation as its
converter, so a file is read with ``weights_only=True`` and torchvision's weights are downloaded once to torch's hub
cache by core (no download code here).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from action_core.api import extract_state_dict, load_weights, read_checkpoint, rename_keys

from .backbones import SwinTransformer3D

TORCHVISION_SWIN2D = {"tiny": "swin_t", "small": "swin_s", "base": "swin_b"}

Pretrained = bool | str | os.PathLike[str]

_TV_STAGE_RULES: tuple[tuple[str, str], ...] = (
    (r"features\.0\.0\.(?P<p>weight|bias)", r"patch_embed.proj.\g<p>"),
    (r"features\.0\.2\.(?P<p>weight|bias)", r"patch_embed.norm.\g<p>"),
    (r"norm\.(?P<p>weight|bias)", r"norm.\g<p>"),
)


@dataclass(frozen=True)
class InflationReport:
    """Which backbone parameters were filled from 2D weights and which 2D weights were not used."""

    inflated: tuple[str, ...]
    not_inflated: tuple[str, ...]
    unused_2d: tuple[str, ...]


def _torchvision_to_swin_names(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision's ``features.N`` layout -> the original Swin names; keys it has no name for are kept as they
    are (and then reported unused)."""
    renamed, rest = rename_keys(state, _TV_STAGE_RULES)
    out = dict(renamed)
    for key in rest:
        match = re.fullmatch(r"features\.(\d+)\.(.+)", key)
        if match is None:
            out[key] = state[key]
            continue
        index, tail = int(match[1]), match[2]
        if index % 2:  # features.1, 3, 5, 7: the stages' blocks
            block, _, name = tail.partition(".")
            name = name.replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2.")
            out[f"layers.{(index - 1) // 2}.blocks.{block}.{name}"] = state[key]
        else:  # features.2, 4, 6: patch merging after stage index/2 - 1
            out[f"layers.{index // 2 - 1}.downsample.{tail}"] = state[key]
    return out


def swin2d_state_dict(checkpoint: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """2D Swin weights under the original Swin names, from a loaded checkpoint or a file (core's
    ``read_checkpoint``): the original Swin release (``model`` wrapper, as MMAction2's ``pretrained`` URLs) or a
    torchvision ``swin_t/s/b`` state dict."""
    state = extract_state_dict(read_checkpoint(checkpoint))
    if any(k.startswith("features.") for k in state):
        state = _torchvision_to_swin_names(state)
    return state


def torchvision_imagenet_url(arch: str) -> str:
    """Where torchvision publishes the ImageNet-1k 2D Swin of ``arch`` (``tiny``, ``small``, ``base``)."""
    if arch not in TORCHVISION_SWIN2D:
        raise ValueError(
            f"torchvision has no ImageNet Swin for arch {arch!r}; pass a file of 2D Swin weights as pretrained="
        )
    from torchvision.models import get_model_weights

    return str(get_model_weights(TORCHVISION_SWIN2D[arch])["IMAGENET1K_V1"].url)


def inflated_state(
    backbone: SwinTransformer3D, state_2d: Mapping[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """The backbone parameters 2D Swin weights (original names) fill, inflated, and the 2D keys left unused
    (no counterpart, or a shape that does not fit)."""
    own = dict(backbone.named_parameters())
    patch_t = backbone.patch_embed.patch_size[0]
    inflated: dict[str, torch.Tensor] = {}
    unused: list[str] = []
    for key, value in state_2d.items():
        target = own.get(key)
        if target is None:
            unused.append(key)
            continue
        if key == "patch_embed.proj.weight" and value.ndim == 4:
            value = value.unsqueeze(2).repeat(1, 1, patch_t, 1, 1) / patch_t
        elif key.endswith("relative_position_bias_table"):
            value = _inflate_bias_table(value, backbone.layers[0].window_size)
        if tuple(value.shape) != tuple(target.shape):
            unused.append(key)
            continue
        inflated[key] = value
    return inflated, tuple(unused)


def inflate_swin2d_weights(
    backbone: SwinTransformer3D, state_2d: Mapping[str, torch.Tensor]
) -> InflationReport:
    """Fill ``backbone``'s parameters from 2D Swin weights (original names); returns what was and was not used."""
    inflated, unused = inflated_state(backbone, state_2d)
    own = dict(backbone.named_parameters())
    with torch.no_grad():
        for key, value in inflated.items():
            own[key].copy_(value)
    return InflationReport(
        inflated=tuple(inflated),
        not_inflated=tuple(k for k in own if k not in inflated),
        unused_2d=unused,
    )


def inflate_pretrained(backbone: SwinTransformer3D, arch: str, pretrained: Pretrained) -> InflationReport:
    """Inflate ImageNet weights into ``backbone``: ``True`` (or ``"IMAGENET1K_V1"``) takes torchvision's 2D Swin
    of ``arch``, a path a 2D Swin file. Read (and downloaded) by core's ``load_weights``."""
    if pretrained is True or pretrained == "IMAGENET1K_V1":
        source: str | os.PathLike[str] = torchvision_imagenet_url(arch)
    elif isinstance(pretrained, (str, os.PathLike)):
        source = pretrained
    else:
        raise ValueError(f"pretrained must be true, 'IMAGENET1K_V1' or a path, got {pretrained!r}")

    def inflate(checkpoint: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
        return inflated_state(backbone, swin2d_state_dict(checkpoint))

    report = load_weights(backbone, source, converter=inflate, strict=False)
    missing = set(report.missing)
    params = [name for name, _ in backbone.named_parameters()]
    return InflationReport(
        inflated=tuple(k for k in params if k not in missing),
        not_inflated=tuple(k for k in params if k in missing),
        unused_2d=tuple(report.unconverted),
    )


def _inflate_bias_table(table: torch.Tensor, window: tuple[int, int, int]) -> torch.Tensor:
    rows, heads = table.shape
    size = (2 * window[1] - 1, 2 * window[2] - 1)
    if rows != size[0] * size[1]:
        side = int(rows**0.5)
        grid = table.permute(1, 0).reshape(1, heads, side, side)
        table = F.interpolate(grid, size=size, mode="bicubic").reshape(heads, -1).permute(1, 0)
    return table.repeat(2 * window[0] - 1, 1)
