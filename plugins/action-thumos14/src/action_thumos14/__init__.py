"""THUMOS14 temporal action localization: per-class annotations, the 20-class map, feature datasets."""

__version__ = "0.1.0"
