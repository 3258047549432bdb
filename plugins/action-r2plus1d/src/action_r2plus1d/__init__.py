"""R(2+1)D: ResNet-34 as MMAction2, ResNet-18 as torchvision, for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Conv2plus1d": "action_r2plus1d.models",
    "R2PLUS1D_18_WEIGHTS": "action_r2plus1d.models",
    "R2PLUS1D_R34_WEIGHTS": "action_r2plus1d.models",
    "WEIGHTS": "action_r2plus1d.models",
    "convert_torchvision_r2plus1d": "action_r2plus1d.convert",
    "mid_channels": "action_r2plus1d.models",
    "r2plus1d_18": "action_r2plus1d.models",
    "r2plus1d_18_parts": "action_r2plus1d.models",
    "r2plus1d_backbone": "action_r2plus1d.models",
    "r2plus1d_r34": "action_r2plus1d.models",
    "r2plus1d_r34_parts": "action_r2plus1d.models",
    "torchvision_r2plus1d_backbone": "action_r2plus1d.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
