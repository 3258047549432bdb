"""Checkpoint conversion between MMAction2 (1.x and 0.x) TPN-TSM and this package's TPN.

The backbone and classifier keys are TSM's (``action_tsm.convert``: ``.net`` wrappers, ConvModule names),
moved under ``backbone.body`` (the stage wrapper); the neck keeps MMAction2's names except that
``neck.spatial_modulation.spatial_modulation.*`` is ``neck.spatial_modulation.*`` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys
from action_tsm import convert as tsm_convert

from .backbones import TSMStages

__all__ = ["from_mmaction", "to_mmaction"]

_NECK_MODULES = r"(?:temporal_modulation_ops|downsample_ops|level_fusion_[12]|pyramid_fusion|aux_head)"

#: (MMAction2 regex, our replacement) for the neck; first match wins.
NECK_TO_OURS: tuple[tuple[str, str], ...] = (
    (
        r"neck\.spatial_modulation\.spatial_modulation\.(\d+\.\d+\.(?:conv|bn)\..+)",
        r"neck.spatial_modulation.\1",
    ),
    (rf"neck\.({_NECK_MODULES}\..+)", r"neck.\1"),
)

#: The inverse mapping (our regex, MMAction2 replacement).
NECK_TO_MMACTION: tuple[tuple[str, str], ...] = (
    (
        r"neck\.spatial_modulation\.(\d+\.\d+\.(?:conv|bn)\..+)",
        r"neck.spatial_modulation.spatial_modulation.\1",
    ),
    (rf"neck\.({_NECK_MODULES}\..+)", r"neck.\1"),
)


def from_mmaction(
    checkpoint: str | PathLike[str] | Mapping[str, object],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 TPN-TSM checkpoint (loaded, or a file read with ``weights_only``; 1.x or 0.x) to
    our key names.

    Returns the converted state dict and the MMAction2 keys no rule maps (to be reported, never dropped).
    Load it with core's ``load_weights(model, checkpoint, converter="tpn_from_mmaction")``.
    """
    state = extract_state_dict(read_checkpoint(checkpoint))
    neck = {k: v for k, v in state.items() if k.startswith("neck.")}
    rest = {k: v for k, v in state.items() if not k.startswith("neck.")}
    converted, unconverted = tsm_convert.from_mmaction(rest)
    out = {
        (f"backbone.body.{k[len('backbone.') :]}" if k.startswith("backbone.") else k): v
        for k, v in converted.items()
    }
    neck_out, neck_unconverted = rename_keys(neck, NECK_TO_OURS)
    out.update(neck_out)
    return out, unconverted + neck_unconverted


def to_mmaction(model: nn.Module) -> dict[str, torch.Tensor]:
    """Export a TPN-TSM model with MMAction2 1.x key names (TSM's ``.net`` wrappers included)."""
    backbone = model.backbone
    if not isinstance(backbone, TSMStages):
        raise TypeError(f"to_mmaction expects a TPN-TSM model, got backbone {type(backbone).__name__}")
    # action-tsm's exporter sees a TSM recognizer: the wrapped ResNet as its backbone, the same head.
    tsm_view = nn.Module()
    tsm_view.backbone = backbone.body
    tsm_view.head = model.head
    out = tsm_convert.to_mmaction(tsm_view)
    neck_state = {f"neck.{k}": v for k, v in model.neck.state_dict().items()}
    neck_out, unconverted = rename_keys(neck_state, NECK_TO_MMACTION)
    if unconverted:
        raise ValueError(f"no MMAction2 name for these keys: {list(unconverted)[:10]}")
    out.update(neck_out)
    return out
