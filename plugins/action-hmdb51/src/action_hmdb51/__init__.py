"""HMDB51 for the action toolkit: the three official splits from the 153 split files, presets, ``prepare``."""
