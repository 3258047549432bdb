from action_testkit import PluginConformance


class TestTrnConformance(PluginConformance):
    plugin = "trn"
