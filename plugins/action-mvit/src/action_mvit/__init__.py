"""Multiscale Vision Transformers (MViTv2-S/B/L in MMAction2's form, MViT-B v1) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ARCHS": "action_mvit.models",
    "MViT": "action_mvit.backbones",
    "MViTHead": "action_mvit.heads",
    "WEIGHTS": "action_mvit.models",
    "convert_mmaction2": "action_mvit.convert",
    "convert_pytorchvideo": "action_mvit.convert",
    "convert_torchvision": "action_mvit.convert",
    "mvit_backbone": "action_mvit.models",
    "mvit_head": "action_mvit.models",
    "mvit_v1_b": "action_mvit.models",
    "mvit_v1_b_parts": "action_mvit.models",
    "mvit_v2_b": "action_mvit.models",
    "mvit_v2_b_parts": "action_mvit.models",
    "mvit_v2_l": "action_mvit.models",
    "mvit_v2_l_parts": "action_mvit.models",
    "mvit_v2_s": "action_mvit.models",
    "mvit_v2_s_parts": "action_mvit.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
