"""The registered Kinetics-400/600/700 dataset builders."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from action_core.api import build_adapter_dataset as build_dataset
from action_kinetics import annotations


def kinetics(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    version: int = 400,
    **args: Any,
) -> Any:
    """Kinetics-``version`` ``split`` (``train``, ``val`` = the validation CSV, ``test``).

    Clips absent from the copy (every Kinetics copy lacks some) are left out with a warning giving their
    count (``missing="error"`` makes that fatal). Reads the list ``action-run kinetics prepare`` wrote when
    there is one, else the official CSVs. Other ``args``: ``modality``, ``source``, ``ann_file``,
    ``data_prefix``, ``bad_media``, ...
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"Kinetics split must be 'train', 'val' or 'test', got {split!r}")
    name = f"kinetics{version}"

    def samples() -> tuple[list, str, str]:
        return annotations.load(root, split, version)[1], annotations.video_dir(root, split), "name"

    return build_dataset(
        name=name,
        split=split,
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root, version),
        samples=samples,
        **args,
    )


def kinetics400(split: str, *, root: str, pipeline: Any, test_mode: bool, **args: Any) -> Any:
    """Kinetics-400 (see :func:`kinetics`)."""
    return kinetics(split, root=root, pipeline=pipeline, test_mode=test_mode, version=400, **args)


def kinetics600(split: str, *, root: str, pipeline: Any, test_mode: bool, **args: Any) -> Any:
    """Kinetics-600 (see :func:`kinetics`)."""
    return kinetics(split, root=root, pipeline=pipeline, test_mode=test_mode, version=600, **args)


def kinetics700(split: str, *, root: str, pipeline: Any, test_mode: bool, **args: Any) -> Any:
    """Kinetics-700 (see :func:`kinetics`)."""
    return kinetics(split, root=root, pipeline=pipeline, test_mode=test_mode, version=700, **args)
