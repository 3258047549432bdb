"""action-tpn: the temporal pyramid network (TPN) neck on a TSM ResNet-50."""

__version__ = "0.1.0"
