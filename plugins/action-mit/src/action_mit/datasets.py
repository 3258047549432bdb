"""The registered Moments in Time (``mit``) and Multi-Moments in Time (``mmit``) dataset builders."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from action_core.api import build_adapter_dataset as build_dataset
from action_mit import annotations


def _build(dataset: str, split: str, root: str, pipeline: Any, test_mode: bool, args: dict[str, Any]) -> Any:
    def samples() -> tuple[list, str, str]:
        found = annotations.load(root, split, dataset)[1]
        return found, annotations.media_dir(root, split, dataset), annotations.match_mode(found)

    return build_dataset(
        name=dataset,
        split="val" if split == "test" else split,
        root=os.fspath(root),
        pipeline=pipeline,
        test_mode=test_mode,
        classes=lambda: annotations.load_classes(root, dataset),
        samples=samples,
        multi_label=dataset == "mmit",
        **args,
    )


def mit(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    **args: Any,
) -> Any:
    """Moments in Time ``split`` (train, val; test = val): single-label, labels from the class folders."""
    return _build("mit", split, root, pipeline, test_mode, args)


def mmit(
    split: str,
    *,
    root: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    **args: Any,
) -> Any:
    """Multi-Moments in Time ``split`` (train, val; test = val): items carry multi-hot float labels."""
    return _build("mmit", split, root, pipeline, test_mode, args)
