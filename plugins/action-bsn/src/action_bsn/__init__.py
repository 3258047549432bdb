"""BSN temporal action proposal generation (Lin et al. 2018): TEM, PGM, PEM in MMAction2 1.2.0's form."""
