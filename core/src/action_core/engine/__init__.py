"""Training, evaluation, testing and prediction: :class:`Trainer`, :func:`evaluate`, :func:`test`,
:func:`predict`; checkpoints, distributed helpers and run callbacks.

Attributes are imported on first use, so reading the config schema (``action_core.engine.schema``) does
not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Trainer": "action_core.engine.trainer",
    "NonFiniteLossError": "action_core.engine.trainer",
    "evaluate": "action_core.engine.inference",
    "predict": "action_core.engine.inference",
    "test": "action_core.engine.inference",
    "load_weights": "action_core.engine.inference",
    "load_model": "action_core.engine.inference",
    "predict_video": "action_core.engine.inference",
    "write_overlay_video": "action_core.engine.overlay",
    "parse_views": "action_core.engine.inference",
    "CheckpointError": "action_core.engine.checkpoint",
    "load_checkpoint": "action_core.engine.checkpoint",
    "save_checkpoint": "action_core.engine.checkpoint",
    "find_resume_checkpoint": "action_core.engine.checkpoint",
    "Callback": "action_core.engine.callbacks",
    "CallbackList": "action_core.engine.callbacks",
    "PluginHookCallback": "action_core.engine.callbacks",
    "ExperimentConfig": "action_core.engine.schema",
    "WorkDirError": "action_core.engine.workdir",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'action_core.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)
