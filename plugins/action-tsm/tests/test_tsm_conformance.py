from action_testkit import PluginConformance


class TestTsmConformance(PluginConformance):
    plugin = "tsm"
