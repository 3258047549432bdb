"""ActivityNet v1.3 for temporal action localization: annotations (official and MMAction2 form), features."""
