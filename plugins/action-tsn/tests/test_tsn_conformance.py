from action_testkit import PluginConformance


class TestTsnConformance(PluginConformance):
    plugin = "tsn"
