"""C3D for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "C3D": "action_c3d.models",
    "WEIGHTS": "action_c3d.models",
    "c3d": "action_c3d.models",
    "c3d_backbone": "action_c3d.models",
    "c3d_head": "action_c3d.models",
    "c3d_parts": "action_c3d.models",
    "convert_mmaction2": "action_c3d.convert",
    "convert_mmaction2_backbone": "action_c3d.convert",
    "export_mmaction2": "action_c3d.convert",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
