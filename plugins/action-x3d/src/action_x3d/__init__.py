"""X3D-S and X3D-M for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BlockX3D": "action_x3d.models",
    "SqueezeExcitation3d": "action_x3d.models",
    "WEIGHTS": "action_x3d.models",
    "X3D": "action_x3d.models",
    "X3DHead": "action_x3d.models",
    "X3D_M_WEIGHTS": "action_x3d.models",
    "X3D_S_WEIGHTS": "action_x3d.models",
    "convert_mmaction2": "action_x3d.convert",
    "convert_pytorchvideo": "action_x3d.convert",
    "export_mmaction2": "action_x3d.convert",
    "x3d_backbone": "action_x3d.models",
    "x3d_feature_width": "action_x3d.models",
    "x3d_head": "action_x3d.models",
    "x3d_m": "action_x3d.models",
    "x3d_m_parts": "action_x3d.models",
    "x3d_s": "action_x3d.models",
    "x3d_s_parts": "action_x3d.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
