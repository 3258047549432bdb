"""action-trn: the temporal relation network (TRN) head on a TSN ResNet-50."""

__version__ = "0.1.0"
