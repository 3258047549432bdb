"""ActivityNet v1.3 for temporal action localization: annotations (official and MMAction2 form), features."""

__version__ = "0.1.0"
