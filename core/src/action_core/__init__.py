"""action-core: the core of the action video-understanding toolkit.

Importing this package is cheap: it imports neither torch nor any plugin. Model families, datasets and
localization methods come from plugins discovered through the ``action.plugins`` entry-point group.

>>> import action_core as ac
>>> model = ac.build_model("tsm_r50", num_classes=400)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from action_core.errors import ActionError, ConfigError, PluginError, RegistryError
from action_core.plugins.hookspecs import PLUGIN_API_VERSION, hookimpl, hookspec


def build(kind: str, name: str, /, **kwargs: Any) -> Any:
    """Look up ``name`` among the registered components of ``kind`` and call its target with ``kwargs``."""
    from action_core.plugins.host import get_registry

    target = get_registry().load(kind, name)
    if not callable(target):
        raise RegistryError(f"{kind} {name!r} is not callable (its target is a {type(target).__name__})")
    return target(**kwargs)


def build_model(name: str, /, **kwargs: Any) -> Any:
    """Build a registered model: ``ac.build_model("tsm_r50", num_classes=400)``."""
    return build("model", name, **kwargs)


def build_dataset(name: str, /, **kwargs: Any) -> Any:
    """Build a registered dataset: ``ac.build_dataset("synthetic_motion", split="train", root=..., pipeline=...)``."""
    return build("dataset", name, **kwargs)


_LAZY = {
    "get_host": "action_core.plugins.host",
    "get_registry": "action_core.plugins.host",
    "load_plugin": "action_core.plugins.host",
    "Entry": "action_core.registry",
    "Registry": "action_core.registry",
    "Trainer": "action_core.engine",
    "evaluate": "action_core.engine",
    "predict": "action_core.engine",
    "test": "action_core.engine",
    "load_config": "action_core.config",
    "ExperimentConfig": "action_core.engine.schema",
}


def __getattr__(name: str) -> Any:
    # Everything beyond the hook markers is imported on first use, so `import action_core` (which every
    # plugin module does) and `action-run --help` stay fast and never import torch.
    if name == "__version__":  # written once, in pyproject.toml
        from action_core.plugins.host import core_version

        return core_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'action_core' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "PLUGIN_API_VERSION",
    "ActionError",
    "ConfigError",
    "PluginError",
    "RegistryError",
    "build",
    "build_dataset",
    "build_model",
    "hookimpl",
    "hookspec",
    *_LAZY,
]
