"""Conformance kit for action plugins."""

from action_testkit.checks import CheckResult, Report, validate_plugin
from action_testkit.fixtures import PluginConformance

__all__ = ["CheckResult", "PluginConformance", "Report", "validate_plugin"]
