"""SlowFast ResNet-50 (4x16, 8x8) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ResNet3dPathway": "action_slowfast.models",
    "ResNet3dSlowFast": "action_slowfast.models",
    "SLOWFAST_R50_8X8_WEIGHTS": "action_slowfast.models",
    "SLOWFAST_R50_WEIGHTS": "action_slowfast.models",
    "SlowFastHead": "action_slowfast.models",
    "WEIGHTS": "action_slowfast.models",
    "convert_pytorchvideo_slowfast": "action_slowfast.convert",
    "lateral_inplanes": "action_slowfast.models",
    "slowfast_backbone": "action_slowfast.models",
    "slowfast_feature_width": "action_slowfast.models",
    "slowfast_head": "action_slowfast.models",
    "slowfast_r50": "action_slowfast.models",
    "slowfast_r50_8x8": "action_slowfast.models",
    "slowfast_r50_8x8_parts": "action_slowfast.models",
    "slowfast_r50_parts": "action_slowfast.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
