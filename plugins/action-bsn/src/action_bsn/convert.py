"""MMAction2 BSN checkpoints (TEM and PEM are separate models there) -> this plugin's modules.

Key names are MMAction2's (``conv1..3`` for the TEM, ``fc1``/``fc2`` for the PEM); conversion unwraps
``state_dict`` and drops ``module.``/``model.`` prefixes. For the :class:`~action_bsn.models.BSN`
container the keys get a ``tem.``/``pem.`` prefix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_bmn.convert import load_checkpoint_file
from action_core.models.checkpoints import ConversionReport, extract_state_dict, load_converted, rename_keys

__all__ = ["convert_mmaction2_pem", "convert_mmaction2_tem", "load_bsn_weights"]

_TEM_KEYS = r"(conv[123]\.(?:weight|bias))"
_PEM_KEYS = r"(fc[12]\.(?:weight|bias))"


def _convert(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str], keys: str, prefix: str
) -> dict[str, torch.Tensor]:
    if not isinstance(checkpoint, Mapping):
        checkpoint = load_checkpoint_file(checkpoint)
    state = extract_state_dict(checkpoint)
    out, unconverted = rename_keys(state, [(rf"(?:model\.|module\.)?(?:{prefix})?{keys}", rf"{prefix}\1")])
    if unconverted:
        raise ValueError(
            f"checkpoint keys {list(unconverted)[:5]} are not BSN {prefix.rstrip('.') or 'module'} keys; "
            f"is this the right module's checkpoint (TEM: conv1..conv3, PEM: fc1, fc2)?"
        )
    return out


def convert_mmaction2_tem(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str], *, prefix: str = ""
) -> dict[str, torch.Tensor]:
    """MMAction2 TEM checkpoint -> ``bsn_tem`` keys (``prefix="tem."`` for the BSN container)."""
    return _convert(checkpoint, _TEM_KEYS, prefix)


def convert_mmaction2_pem(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str], *, prefix: str = ""
) -> dict[str, torch.Tensor]:
    """MMAction2 PEM checkpoint -> ``bsn_pem`` keys (``prefix="pem."`` for the BSN container)."""
    return _convert(checkpoint, _PEM_KEYS, prefix)


def load_bsn_weights(
    model: nn.Module, weights: Mapping[str, Any] | str | os.PathLike[str], *, module: str, strict: bool = True
) -> ConversionReport:
    """Load weights into a TEM (``module="tem"``), a PEM (``"pem"``) or a BSN container (``"bsn"``: a
    toolkit checkpoint holding ``tem.*`` and ``pem.*``)."""
    source = os.fspath(weights) if not isinstance(weights, Mapping) else "checkpoint"
    if module == "tem":
        state = convert_mmaction2_tem(weights)
    elif module == "pem":
        state = convert_mmaction2_pem(weights)
    elif module == "bsn":
        ckpt = weights if isinstance(weights, Mapping) else load_checkpoint_file(weights)
        state = extract_state_dict(ckpt)
    else:
        raise ValueError(f"module must be tem, pem or bsn; got {module!r}")
    return load_converted(model, state, strict=strict, source=source)
