"""The plugin follows the plugin contract (action-testkit)."""

from action_testkit import PluginConformance


class TestConformance(PluginConformance):
    plugin = "kinetics"
