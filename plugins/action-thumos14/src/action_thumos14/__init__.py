"""THUMOS14 temporal action localization: per-class annotations, the 20-class map, feature datasets."""
