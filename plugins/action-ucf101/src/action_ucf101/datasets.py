"""The registered UCF101 dataset builder."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from action_core.api import build_adapter_dataset as build_dataset
from action_ucf101 import annotations


def ucf101(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    split_number: int = 1,
    **args: Any,
) -> Any:
    """UCF101 ``split`` (``train``; ``val`` and ``test`` are the official test list) of split 1, 2 or 3.

    Reads the list ``action-run ucf101 prepare`` wrote when there is one, else the official split files.
    ``args``: ``modality`` (``video``/``rawframes``), ``source`` (``auto``/``lists``/``annotations``),
    ``ann_file``, ``data_prefix``, ``missing`` (``drop``/``error``/``keep``), ``bad_media`` and the other
    :class:`~action_core.data.VideoDataset` options.
    """
    annotations.split_file_name(split, split_number)  # validates split and split_number early

    def samples() -> tuple[list, str, str]:
        return annotations.load(root, split, split_number)[1], annotations.video_dir(root), "path"

    return build_dataset(
        name="ucf101",
        split=annotations.list_key(split, split_number),
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root),
        samples=samples,
        **args,
    )
