"""Core's own components, registered through the same hooks a plugin uses."""

from __future__ import annotations

from action_core.plugins.hookspecs import PLUGIN_API_VERSION, Register, hookimpl

ACTION_PLUGIN_API = PLUGIN_API_VERSION


@hookimpl
def action_register_metrics(register: Register) -> None:
    """Classification metrics of :mod:`action_core.evaluation`."""


@hookimpl
def action_register_transforms(register: Register) -> None:
    """Samplers, the decoder step and video transforms of :mod:`action_core.data`."""
