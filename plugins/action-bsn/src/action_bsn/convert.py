"""MMAction2 BSN checkpoints (TEM and PEM are separate models there) -> this plugin's modules.

Key names are MMAction2's (``conv1..3`` for the TEM, ``fc1``/``fc2`` for the PEM); conversion unwraps
``state_dict`` and drops ``module.``/``model.`` prefixes. For the :class:`~action_bsn.models.BSN`
container the keys get a ``tem.``/``pem.`` prefix. Files are read with ``weights_only=True``.
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
    """MMAction2 TEM checkpoint -> ``bsn_tem`` keys (``prefix="tem."`` for the BSN container), and the keys
    no rule mapped."""
    return _convert(checkpoint, _TEM_KEYS, prefix)


def convert_mmaction2_pem(
    checkpoint: Checkpoint, *, prefix: str = ""
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """MMAction2 PEM checkpoint -> ``bsn_pem`` keys (``prefix="pem."`` for the BSN container), and the keys
    no rule mapped."""
    return _convert(checkpoint, _PEM_KEYS, prefix)


def load_bsn_weights(
    model: nn.Module, weights: Checkpoint, *, module: str, strict: bool = True
) -> ConversionReport:
    """Load weights into a TEM (``module="tem"``), a PEM (``"pem"``) or a BSN container (``"bsn"``: a
    toolkit checkpoint holding ``tem.*`` and ``pem.*``)."""
    converters = {"tem": convert_mmaction2_tem, "pem": convert_mmaction2_pem, "bsn": None}
    if module not in converters:
        raise ValueError(f"module must be tem, pem or bsn; got {module!r}")
    return load_weights(model, weights, converter=converters[module], strict=strict)
