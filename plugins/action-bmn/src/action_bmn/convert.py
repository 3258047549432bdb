"""MMAction2 BMN checkpoints (1.x and 0.x) -> this plugin's :class:`~action_bmn.models.BMN`.

The module names are MMAction2's, so the conversion keeps every key; it unwraps ``state_dict``, drops a
``module.``/``model.`` prefix, and fills the two fixed tensors a checkpoint may lack: ``bm_mask`` (0.x
checkpoints predate it being a buffer) and ``sample_mask`` (recomputed from the configuration).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.models.checkpoints import ConversionReport, extract_state_dict, load_converted, rename_keys

__all__ = ["convert_mmaction2", "load_bmn_weights", "load_checkpoint_file"]

_FIXED = ("sample_mask", "bm_mask")


def load_checkpoint_file(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """``torch.load`` a checkpoint on the CPU; a missing or unreadable file is reported with its path."""
    try:
        return torch.load(os.fspath(path), map_location="cpu", weights_only=False)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"checkpoint {os.fspath(path)!r} not found") from e
    except Exception as e:
        raise ValueError(f"cannot read checkpoint {os.fspath(path)!r}: {e}") from e


def convert_mmaction2(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str], *, model: nn.Module | None = None
) -> dict[str, torch.Tensor]:
    """Convert an MMAction2 BMN checkpoint (path, loaded dict or bare state dict) to this plugin's keys.

    With ``model`` given, fixed tensors missing from the checkpoint are taken from it.
    """
    if not isinstance(checkpoint, Mapping):
        checkpoint = load_checkpoint_file(checkpoint)
    state = extract_state_dict(checkpoint)
    state, _ = rename_keys(state, [(r"(?:model\.|module\.)?(.+)", r"\1")])
    if model is not None:
        own = model.state_dict()
        for key in _FIXED:
            if key not in state and key in own:
                state[key] = own[key].clone()
    return state


def load_bmn_weights(
    model: nn.Module, weights: Mapping[str, Any] | str | os.PathLike[str], *, strict: bool = True
) -> ConversionReport:
    """Load MMAction2 or toolkit weights into ``model``; every mismatch is reported (and raised if strict)."""
    source = os.fspath(weights) if not isinstance(weights, Mapping) else "checkpoint"
    state = convert_mmaction2(weights, model=model)
    return load_converted(model, state, strict=strict, source=source)
