"""Kinetics-400, -600 and -700 for the action toolkit: official CSVs, clip naming, label maps, ``prepare``."""
