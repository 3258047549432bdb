from action_testkit import PluginConformance


class TestTpnConformance(PluginConformance):
    plugin = "tpn"
