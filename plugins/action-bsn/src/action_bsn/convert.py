"""MMAction2 BSN checkpoints (TEM and PEM are separate models there) -> this plugin's modules.

Key names are MMAction2's (``conv1..3`` for the TEM, ``fc1``/``fc2`` for the PEM); conversion unwraps
``state_dict`` and drops ``module.``/``model.`` prefixes (and a ``tem.``/``pem.`` one, or adds it with
``prefix``). Files are read with ``weights_only=True``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_weights, read_checkpoint, rename_keys

__all__ = ["convert_mmaction2_pem", "convert_mmaction2_tem", "load_bsn_weights"]

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]
_TEM_KEYS = r"(conv[123]\.(?:weight|bias))"
_PEM_KEYS = r"(fc[12]\.(?:weight|bias))"


def _convert(
    checkpoint: Checkpoint, keys: str, prefix: str
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    state = extract_state_dict(read_checkpoint(checkpoint))
    return rename_keys(state, [(rf"(?:model\.|module\.)?(?:{prefix})?{keys}", rf"{prefix}\1")])


def convert_mmaction2_tem(
    checkpoint: Checkpoint, *, prefix: str = ""
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """MMAction2 TEM checkpoint -> ``bsn_tem`` keys (each with ``prefix``), and the keys no rule mapped."""
    return _convert(checkpoint, _TEM_KEYS, prefix)


def convert_mmaction2_pem(
    checkpoint: Checkpoint, *, prefix: str = ""
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """MMAction2 PEM checkpoint -> ``bsn_pem`` keys (each with ``prefix``), and the keys no rule mapped."""
    return _convert(checkpoint, _PEM_KEYS, prefix)


def load_bsn_weights(
    model: nn.Module, weights: Checkpoint, *, module: str, strict: bool = True
) -> ConversionReport:
    """Load MMAction2 or toolkit weights into a TEM (``module="tem"``) or a PEM (``"pem"``); every
    mismatch is reported (and raised if strict)."""
    converters = {"tem": convert_mmaction2_tem, "pem": convert_mmaction2_pem}
    if module not in converters:
        raise ValueError(f"module must be tem or pem; got {module!r}")
    return load_weights(model, weights, converter=converters[module], strict=strict)
