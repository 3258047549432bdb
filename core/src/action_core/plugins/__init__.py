"""Plugin contract (hook specs), discovery and loading.

The host (``action_core.plugins.host``) is imported on first use so that importing the hook markers
stays cheap.
"""

from typing import Any

from action_core.plugins.hookspecs import PLUGIN_API_VERSION, hookimpl, hookspec

_HOST_NAMES = {"PluginHost", "PluginInfo", "get_host", "get_registry", "load_plugin", "reset_host"}


def __getattr__(name: str) -> Any:
    if name in _HOST_NAMES:
        from action_core.plugins import host

        return getattr(host, name)
    raise AttributeError(f"module 'action_core.plugins' has no attribute {name!r}")


__all__ = ["PLUGIN_API_VERSION", "hookimpl", "hookspec", *sorted(_HOST_NAMES)]
