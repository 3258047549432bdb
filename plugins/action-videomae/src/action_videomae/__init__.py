"""VideoMAE ViT classifiers (MMAction2 form) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "WEIGHTS": "action_videomae.models",
    "convert_transformers_videomae": "action_videomae.convert",
    "videomae_vit_b16": "action_videomae.models",
    "videomae_vit_b16_parts": "action_videomae.models",
    "videomae_vit_l16": "action_videomae.models",
    "videomae_vit_l16_parts": "action_videomae.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
