"""UCF101 for the action toolkit: the three official train/test splits, label map, presets, ``prepare``."""
