"""TimeSformer with divided space-time attention (MMAction2 form) for the action toolkit.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "WEIGHTS": "action_timesformer.models",
    "DividedSpaceTimeBlock": "action_timesformer.models",
    "FramePatchEmbed": "action_timesformer.models",
    "TimeSformer": "action_timesformer.models",
    "convert_mmaction2_timesformer": "action_timesformer.convert",
    "convert_transformers_timesformer": "action_timesformer.convert",
    "timesformer_backbone": "action_timesformer.models",
    "timesformer_divst": "action_timesformer.models",
    "timesformer_divst_parts": "action_timesformer.models",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
