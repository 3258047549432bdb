from action_testkit import PluginConformance


class TestSyntheticConformance(PluginConformance):
    plugin = "synthetic"
