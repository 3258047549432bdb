"""MMAction2 BMN checkpoints (1.x and 0.x) -> this plugin's :class:`~action_bmn.models.BMN`.

The module names are MMAction2's, so the conversion keeps every key: it unwraps ``state_dict`` and drops a
``module.``/``model.`` prefix. ``bm_mask`` (a buffer in 1.x, absent from 0.x) is derived from the temporal
scale, so the model recomputes it and does not store it; the converter consumes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_weights, read_checkpoint, rename_keys

__all__ = ["convert_mmaction2", "load_bmn_weights"]

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 BMN checkpoint (path, loaded dict or bare state dict) to this plugin's keys;
    returns the state dict and the keys no rule mapped. Files are read with ``weights_only=True``."""
    state = extract_state_dict(read_checkpoint(checkpoint))
    state = {k: v for k, v in state.items() if k.rpartition(".")[2] != "bm_mask"}
    return rename_keys(state, [(r"(?:model\.|module\.)?(.+)", r"\1")])


def load_bmn_weights(model: nn.Module, weights: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Load MMAction2 or toolkit weights into ``model``; every mismatch is reported (and raised if strict)."""
    return load_weights(model, weights, converter=convert_mmaction2, strict=strict)
