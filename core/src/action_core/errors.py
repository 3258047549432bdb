"""Exceptions raised by action-core. Every message says what went wrong, with which input, and what to do."""

from __future__ import annotations


class ActionError(Exception):
    """Base class of the toolkit's own errors."""


class PluginError(ActionError):
    """A plugin could not be discovered, imported, checked or registered."""


class RegistryError(ActionError, LookupError):
    """A component name is unknown, ambiguous or registered twice."""


class ConfigError(ActionError, ValueError):
    """A configuration file, preset or override is malformed or invalid."""
