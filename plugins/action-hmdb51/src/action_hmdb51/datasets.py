"""The registered HMDB51 dataset builder."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from action_core.api import build_adapter_dataset as build_dataset
from action_hmdb51 import annotations


def hmdb51(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    split_number: int = 1,
    **args: Any,
) -> Any:
    """HMDB51 ``split`` (``train``; ``val`` and ``test`` are the official test rows) of split 1, 2 or 3.

    Reads the list ``action-run hmdb51 prepare`` wrote when there is one, else the official split files.
    ``args``: ``modality``, ``source``, ``ann_file``, ``data_prefix``, ``missing``, ``bad_media``, ...
    """
    if split_number not in annotations.SPLITS or split not in annotations.FLAGS:
        raise ValueError(
            f"HMDB51 needs split in train/val/test and split_number 1-3; got {split!r}, {split_number!r}"
        )

    def samples() -> tuple[list, str, str]:
        return annotations.load(root, split, split_number)[1], annotations.video_dir(root), "path"

    return build_dataset(
        name="hmdb51",
        split=annotations.list_key(split, split_number),
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root),
        samples=samples,
        **args,
    )
