"""Checkpoint conversion between MMAction2 (1.x and 0.x) TRN and this package's TRN.

The ResNet and ``fc_cls`` keys are TSN's (``action_tsn.convert``); the relation module keeps MMAction2's
names under ``head.consensus`` (``fc_fusion_scales.I.{1,3}`` multi-scale, ``classifier.{1,3}`` single-scale).
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys
from action_tsn import convert as tsn_convert

__all__ = ["from_mmaction", "to_mmaction"]

_RELATION = r"consensus\.((?:fc_fusion_scales\.\d+|classifier)\.[13]\.(?:weight|bias))"

MMACTION_TO_OURS: tuple[tuple[str, str], ...] = (
    *tsn_convert.MMACTION_TO_OURS,
    (rf"cls_head\.{_RELATION}", r"head.consensus.\1"),
)
OURS_TO_MMACTION: tuple[tuple[str, str], ...] = (
    *tsn_convert.OURS_TO_MMACTION,
    (rf"head\.{_RELATION}", r"cls_head.consensus.\1"),
)


def from_mmaction(
    checkpoint: str | PathLike[str] | Mapping[str, object],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 TRN checkpoint (loaded, or a file read with ``weights_only``; 1.x or 0.x) to our
    key names.

    Returns the converted state dict and the MMAction2 keys no rule maps (to be reported, never dropped).
    Load it with core's ``load_weights(model, checkpoint, converter="trn_from_mmaction")``.
    """
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION_TO_OURS)


def to_mmaction(model: nn.Module) -> dict[str, torch.Tensor]:
    """Export a TRN model with MMAction2 1.x key names; a key without an MMAction2 name is an error."""
    out, unconverted = rename_keys(model.state_dict(), OURS_TO_MMACTION)
    if unconverted:
        raise ValueError(f"no MMAction2 name for these keys: {list(unconverted)[:10]}")
    return out
