"""The registered Something-Something V1 and V2 dataset builders."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from action_core.api import build_adapter_dataset as build_dataset
from action_something import annotations


def sthv1(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    **args: Any,
) -> Any:
    """Something-Something V1 ``split`` (train, val, test): frame folders ``<id>/00001.jpg`` ...

    Reads the list ``action-run sthv1 prepare`` wrote when there is one, else the official CSVs (counting
    each folder's frames). ``args``: ``source``, ``ann_file``, ``data_prefix``, ``missing``, ``bad_media``, ...
    """
    args.setdefault("modality", "rawframes")
    args.setdefault("frame_template", annotations.V1_FRAME_TEMPLATE)

    def samples() -> tuple[list, str, str]:
        return annotations.load(root, split, 1)[1], annotations.media_dir(root, 1), "dir"

    return build_dataset(
        name="sthv1",
        split=split,
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root, 1),
        samples=samples,
        **args,
    )


def sthv2(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    **args: Any,
) -> Any:
    """Something-Something V2 ``split`` (train, val, test): ``<id>.webm`` videos labelled from templates.

    Reads the list ``action-run sthv2 prepare`` wrote when there is one, else the official JSON files.
    ``args``: ``modality``, ``source``, ``ann_file``, ``data_prefix``, ``missing``, ``bad_media``, ...
    """

    def samples() -> tuple[list, str, str]:
        return annotations.load(root, split, 2)[1], annotations.media_dir(root, 2), "name"

    return build_dataset(
        name="sthv2",
        split=split,
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root, 2),
        samples=samples,
        **args,
    )


def sthv1_flip_label_map() -> dict[str, int]:
    """``Flip(flip_label_map=...)`` for V1 with string keys (as TOML configs hold them)."""
    return {str(k): v for k, v in annotations.flip_label_map(annotations.shipped_classes(1)).items()}


def sthv2_flip_label_map() -> dict[str, int]:
    """``Flip(flip_label_map=...)`` for V2 with string keys (as TOML configs hold them)."""
    return {str(k): v for k, v in annotations.flip_label_map(annotations.shipped_classes(2)).items()}
