"""Plugin contract (hook specs), discovery and loading."""

from action_core.plugins.hookspecs import PLUGIN_API_VERSION, hookimpl, hookspec
from action_core.plugins.host import PluginHost, PluginInfo, get_host, get_registry, load_plugin, reset_host

__all__ = [
    "PLUGIN_API_VERSION",
    "PluginHost",
    "PluginInfo",
    "get_host",
    "get_registry",
    "hookimpl",
    "hookspec",
    "load_plugin",
    "reset_host",
]
