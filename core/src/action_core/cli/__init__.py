"""The ``action-run`` command line."""
