"""Shared machinery of the dataset plugins: annotated samples, matching against files on disk, building
datasets, ``prepare`` (lists, rawframes, re-encoding), safe archive unpacking and ``doctor``.

Plugins import these from their dataset and command modules, never from ``plugin.py``.
"""

from action_core.datasets.samples import Sample, read_class_list

__all__ = ["Sample", "read_class_list"]
