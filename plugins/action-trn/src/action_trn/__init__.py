"""action-trn: the temporal relation network (TRN) head on a TSN ResNet-50."""
