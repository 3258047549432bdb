"""SlowOnly ResNet-50 (4x16, 8x8) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "convert_pytorchvideo_slow": "action_slowonly.convert",
    "WEIGHTS": "action_slowonly.models",
    "slowonly_backbone": "action_slowonly.models",
    "slowonly_r50": "action_slowonly.models",
    "slowonly_r50_parts": "action_slowonly.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
