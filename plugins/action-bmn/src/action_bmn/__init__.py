"""BMN temporal action proposal generation (Lin et al. 2019) in MMAction2 1.2.0's form."""
