"""I3D ResNet-50 (MMAction2 form) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "WEIGHTS": "action_i3d.models",
    "i3d_backbone": "action_i3d.models",
    "i3d_r50": "action_i3d.models",
    "i3d_r50_parts": "action_i3d.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
