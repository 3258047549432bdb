"""Channel-separated networks (ir-CSN, ip-CSN) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "InteractionPreservedConv3d": "action_csn.models",
    "ResNet3dCSN": "action_csn.models",
    "WEIGHTS": "action_csn.models",
    "channel_separated_conv3d": "action_csn.models",
    "convert_mmaction2": "action_csn.convert",
    "convert_mmaction2_backbone": "action_csn.convert",
    "csn_backbone": "action_csn.models",
    "export_mmaction2": "action_csn.convert",
    "ircsn_r152": "action_csn.models",
    "ircsn_r152_parts": "action_csn.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
