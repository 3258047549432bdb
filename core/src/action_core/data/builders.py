"""Registered dataset builders for the generic list formats, so users can train on their own lists.

Each follows the dataset contract ``build(split, *, root, pipeline, test_mode, **args)``. ``ann_file`` may
contain ``{split}``; relative paths are taken under ``root``. ``classes`` is a list of names or the path of a
label map (one class name per line; line order = label id). ``labelled`` (default: ``not test_mode``) makes a
row without a label an error naming the file and line, as a list to train on must label every row.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from action_core.data.datasets import BadMedia, RawframeDataset, VideoDataset
from action_core.data.lists import AnnotationError, parse_rawframe_list, parse_slowfast_list, parse_video_list

Pipeline = Sequence[Mapping[str, Any] | Callable] | Callable


def _under(root: str, path: str | None) -> str:
    if not path:
        return root
    return path if os.path.isabs(path) or not root else os.path.join(root, path)


def _classes(root: str, classes: Sequence[str] | str | None) -> list[str] | None:
    if classes is None or not isinstance(classes, str):
        return list(classes) if classes is not None else None
    path = Path(_under(root, classes))
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    except FileNotFoundError as e:
        raise AnnotationError("label map not found; check 'classes' and the data root", path=str(path)) from e
    except UnicodeDecodeError as e:
        raise AnnotationError(f"the label map is not UTF-8 text ({e.reason})", path=str(path)) from e
    except OSError as e:
        raise AnnotationError(f"cannot read the label map: {e.strerror or e}", path=str(path)) from e


def video_list(
    split: str,
    *,
    root: str,
    pipeline: Pipeline,
    test_mode: bool,
    ann_file: str = "{split}.txt",
    data_prefix: str | None = None,
    delimiter: str = " ",
    multi_label: bool = False,
    num_classes: int | None = None,
    classes: Sequence[str] | str | None = None,
    bad_media: BadMedia = "error",
    labelled: bool | None = None,
) -> VideoDataset:
    """A :class:`VideoDataset` from an MMAction2 video list (``<path> <label>`` rows)."""
    names = _classes(root, classes)
    num_classes = num_classes or (len(names) if names else None)
    records = parse_video_list(
        _under(root, ann_file.format(split=split)),
        prefix=_under(root, data_prefix),
        delimiter=delimiter,
        multi_label=multi_label,
        num_classes=num_classes,
        labelled=not test_mode if labelled is None else labelled,
    )
    return VideoDataset(
        records,
        pipeline,
        test_mode=test_mode,
        multi_label=multi_label,
        num_classes=num_classes,
        bad_media=bad_media,
        classes=names,
    )


def rawframe_list(
    split: str,
    *,
    root: str,
    pipeline: Pipeline,
    test_mode: bool,
    ann_file: str = "{split}.txt",
    data_prefix: str | None = None,
    with_offset: bool = False,
    multi_label: bool = False,
    num_classes: int | None = None,
    classes: Sequence[str] | str | None = None,
    filename_tmpl: str = "img_{:05d}.jpg",
    start_index: int = 1,
    modality: str = "RGB",
    bad_media: BadMedia = "error",
    labelled: bool | None = None,
) -> RawframeDataset:
    """A :class:`RawframeDataset` from an MMAction2 rawframe list (``<dir> [<offset>] <frames> <label>``)."""
    names = _classes(root, classes)
    num_classes = num_classes or (len(names) if names else None)
    records = parse_rawframe_list(
        _under(root, ann_file.format(split=split)),
        prefix=_under(root, data_prefix),
        with_offset=with_offset,
        multi_label=multi_label,
        num_classes=num_classes,
        labelled=not test_mode if labelled is None else labelled,
    )
    return RawframeDataset(
        records,
        pipeline,
        test_mode=test_mode,
        multi_label=multi_label,
        num_classes=num_classes,
        bad_media=bad_media,
        classes=names,
        filename_tmpl=filename_tmpl,
        start_index=start_index,
        modality=modality,  # type: ignore[arg-type]
    )


def slowfast_list(
    split: str,
    *,
    root: str,
    pipeline: Pipeline,
    test_mode: bool,
    ann_file: str = "{split}.csv",
    data_prefix: str | None = None,
    separator: str = " ",
    num_classes: int | None = None,
    classes: Sequence[str] | str | None = None,
    bad_media: BadMedia = "error",
    labelled: bool | None = None,
) -> VideoDataset:
    """A :class:`VideoDataset` from a PySlowFast/PyTorchVideo list (``<path><separator><label>``)."""
    names = _classes(root, classes)
    num_classes = num_classes or (len(names) if names else None)
    records = parse_slowfast_list(
        _under(root, ann_file.format(split=split)),
        prefix=_under(root, data_prefix),
        separator=separator,
        num_classes=num_classes,
        labelled=not test_mode if labelled is None else labelled,
    )
    return VideoDataset(
        records, pipeline, test_mode=test_mode, num_classes=num_classes, bad_media=bad_media, classes=names
    )
