"""action-tpn: the temporal pyramid network (TPN) neck on a TSM ResNet-50."""
