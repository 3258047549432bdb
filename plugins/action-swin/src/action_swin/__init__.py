"""Video Swin Transformer (Swin-T/S/B/L in MMAction2's form) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ARCHS": "action_swin.models",
    "SwinTransformer3D": "action_swin.backbones",
    "WEIGHTS": "action_swin.models",
    "convert_mmaction2": "action_swin.convert",
    "convert_torchvision": "action_swin.convert",
    "inflate_swin2d_weights": "action_swin.inflate",
    "inflate_pretrained": "action_swin.inflate",
    "swin2d_state_dict": "action_swin.inflate",
    "swin3d_b": "action_swin.models",
    "swin3d_b_parts": "action_swin.models",
    "swin3d_backbone": "action_swin.models",
    "swin3d_l": "action_swin.models",
    "swin3d_l_parts": "action_swin.models",
    "swin3d_s": "action_swin.models",
    "swin3d_s_parts": "action_swin.models",
    "swin3d_t": "action_swin.models",
    "swin3d_t_parts": "action_swin.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
