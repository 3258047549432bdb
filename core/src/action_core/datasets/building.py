"""Build :class:`~action_core.data.VideoDataset` / :class:`~action_core.data.RawframeDataset` objects for a
dataset plugin, from its parsed annotations or from the lists ``prepare`` wrote."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from action_core.datasets.matching import VIDEO_EXTENSIONS, MatchBy, match_samples
from action_core.datasets.samples import Sample
from action_core.errors import ActionError

logger = logging.getLogger("action_core.datasets")

Missing = Literal["drop", "error", "keep"]
Modality = Literal["video", "rawframes"]

LISTS_DIR = "lists"
RAWFRAME_TEMPLATE = "img_{:05d}.jpg"


class MissingMediaError(ActionError, FileNotFoundError):
    """Annotated clips whose media are not on disk (with ``missing="error"``)."""


class NotPreparedError(ActionError, FileNotFoundError):
    """What was asked for needs ``action-run <dataset> prepare`` first (a list or rawframes are absent)."""


def list_path(root: str | os.PathLike[str], name: str, split: str, modality: Modality = "video") -> str:
    """Where ``prepare`` writes the list of ``name``'s ``split`` (``root/lists/<name>_<split>_<modality>.txt``)."""
    return os.path.join(
        os.fspath(root), LISTS_DIR, f"{name}_{split}_{'videos' if modality == 'video' else 'rawframes'}.txt"
    )


def classes_path(root: str | os.PathLike[str], name: str) -> str:
    """Where ``prepare`` writes the class names of ``name`` (one per line, line ``i`` is label ``i``)."""
    return os.path.join(os.fspath(root), LISTS_DIR, f"{name}_classes.txt")


def _record_label(label: int | tuple[int, ...] | None) -> int | list[int] | None:
    return list(label) if isinstance(label, tuple) else label


def report_missing(name: str, split: str, missing: Sequence[Sample], total: int, policy: Missing) -> None:
    """Log (``drop``) or raise (``error``) for annotated clips without media; ``keep`` says nothing."""
    if not missing or policy == "keep":
        return
    shown = ", ".join(f"{s.video} ({s.where})" if s.where else s.video for s in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    text = (
        f"{name} {split}: {len(missing)} of {total} annotated clips have no media file: {shown}{more}; "
        f"run `action-run {name.split('_')[0]} prepare` for a full report"
    )
    if policy == "error":
        raise MissingMediaError(text + " (or pass missing='drop' to leave them out)")
    logger.warning("%s; they are left out", text)


def build_from_samples(
    samples: Sequence[Sample],
    *,
    name: str,
    split: str,
    root: str | os.PathLike[str],
    media_dir: str,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    classes: Sequence[str],
    multi_label: bool = False,
    match: MatchBy = "path",
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
    missing: Missing = "drop",
    frame_template: str = RAWFRAME_TEMPLATE,
    frame_start_index: int = 1,
    **dataset_args: Any,
) -> Any:
    """A dataset over ``samples`` whose media live under ``root/media_dir``.

    Video files give a :class:`~action_core.data.VideoDataset`; ``match="dir"`` (frame folders) gives a
    :class:`~action_core.data.RawframeDataset` whose frame counts are counted on disk. Clips without
    media follow ``missing``: ``drop`` (warn with counts), ``error`` or ``keep`` (the reader reports them).
    """
    from action_core.data import RawframeDataset, RawframeRecord, VideoDataset, VideoRecord

    root = os.fspath(root)
    result = match_samples(samples, root, media_dir, by=match, extensions=extensions)
    report_missing(name, split, result.missing, len(samples), missing)
    pairs = list(result.found)
    if missing == "keep":
        prefix = media_dir.strip("/") + "/" if media_dir else ""
        pairs += [(s, prefix + s.video) for s in result.missing]
    common = dict(test_mode=test_mode, multi_label=multi_label, classes=list(classes), **dataset_args)
    if match == "dir":
        frame_records = [
            RawframeRecord(
                os.path.join(root, rel),
                count_frames(os.path.join(root, rel), frame_template, frame_start_index),
                _record_label(s.label),
            )
            for s, rel in pairs
        ]
        return RawframeDataset(
            frame_records, pipeline, filename_tmpl=frame_template, start_index=frame_start_index, **common
        )
    records = [
        VideoRecord(os.path.join(root, rel), _record_label(s.label), start=s.start, end=s.end)
        for s, rel in pairs
    ]
    return VideoDataset(records, pipeline, **common)


def count_frames(frame_dir: str, template: str = RAWFRAME_TEMPLATE, start_index: int = 1) -> int:
    """Number of consecutive frame files ``template.format(start_index + k)`` in ``frame_dir`` (0 if none)."""
    try:
        names = set(os.listdir(frame_dir))
    except OSError:
        return 0
    n = 0
    while template.format(start_index + n) in names:
        n += 1
    return n


def build_from_list(
    ann_file: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str],
    modality: Modality,
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    classes: Sequence[str],
    multi_label: bool = False,
    data_prefix: str | os.PathLike[str] | None = None,
    frame_template: str = RAWFRAME_TEMPLATE,
    frame_start_index: int = 1,
    labelled: bool | None = None,
    **dataset_args: Any,
) -> Any:
    """A dataset over an MMAction2 video or rawframe list (such as the ones ``prepare`` writes).

    Paths in the list are relative to ``data_prefix`` (default: ``root``). Labels are checked against
    ``len(classes)``; ``labelled`` (default: ``not test_mode``) refuses rows without a label.
    """
    from action_core.data import RawframeDataset, VideoDataset, parse_rawframe_list, parse_video_list

    prefix = os.fspath(data_prefix) if data_prefix is not None else os.fspath(root)
    num_classes = len(classes) or None
    common = dict(test_mode=test_mode, multi_label=multi_label, classes=list(classes), **dataset_args)
    needs_labels = not test_mode if labelled is None else labelled
    if modality == "rawframes":
        frames = parse_rawframe_list(
            ann_file, prefix=prefix, multi_label=multi_label, num_classes=num_classes, labelled=needs_labels
        )
        return RawframeDataset(
            frames, pipeline, filename_tmpl=frame_template, start_index=frame_start_index, **common
        )
    if modality != "video":
        raise ValueError(f"modality must be 'video' or 'rawframes', got {modality!r}")
    videos = parse_video_list(
        ann_file, prefix=prefix, multi_label=multi_label, num_classes=num_classes, labelled=needs_labels
    )
    return VideoDataset(videos, pipeline, **common)


def read_classes_file(path: str | os.PathLike[str]) -> list[str]:
    """Class names from a file with one name per line (line ``i`` is label ``i``)."""
    from action_core.data.lists import AnnotationError

    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except UnicodeDecodeError as e:
        raise AnnotationError(f"the class list is not UTF-8 text ({e.reason})", path=os.fspath(path)) from e
    except OSError as e:
        raise AnnotationError(f"cannot read the class list: {e.strerror or e}", path=os.fspath(path)) from e


def build_dataset(
    *,
    name: str,
    split: str,
    root: str | os.PathLike[str],
    pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
    test_mode: bool,
    classes: Callable[[], Sequence[str]],
    samples: Callable[[], tuple[Sequence[Sample], str, MatchBy]],
    modality: Modality = "video",
    source: Literal["auto", "lists", "annotations"] = "auto",
    ann_file: str | os.PathLike[str] | None = None,
    data_prefix: str | os.PathLike[str] | None = None,
    multi_label: bool = False,
    missing: Missing = "drop",
    frame_template: str = RAWFRAME_TEMPLATE,
    frame_start_index: int = 1,
    labelled: bool | None = None,
    **dataset_args: Any,
) -> Any:
    """What a dataset plugin's registered builder does, given how to get its classes and samples.

    Order of sources: an explicit ``ann_file`` (an MMAction2 list); else, with ``source`` ``auto`` or
    ``lists``, the list ``prepare`` wrote for this split and modality (``root/lists/...``); else the official
    annotations through ``samples()`` (which returns the samples, their media folder and how to match them).
    Class names come from ``root/lists/<name>_classes.txt`` when ``prepare`` wrote it, else ``classes()``.
    """
    if source not in ("auto", "lists", "annotations"):
        raise ValueError(f"source must be 'auto', 'lists' or 'annotations', got {source!r}")
    root = os.fspath(root)
    prepared_classes = classes_path(root, name)
    names = read_classes_file(prepared_classes) if os.path.isfile(prepared_classes) else list(classes())
    common: dict[str, Any] = dict(
        pipeline=pipeline,
        test_mode=test_mode,
        classes=names,
        multi_label=multi_label,
        **dataset_args,
    )
    frames: dict[str, Any] = dict(frame_template=frame_template, frame_start_index=frame_start_index)
    if ann_file is not None:
        return build_from_list(
            ann_file,
            root=root,
            modality=modality,
            data_prefix=data_prefix,
            labelled=labelled,
            **common,
            **frames,
        )
    prepared = list_path(root, name, split, modality)
    if source != "annotations" and os.path.isfile(prepared):
        logger.info("%s %s: reading the prepared list %s", name, split, prepared)
        return build_from_list(prepared, root=root, modality=modality, labelled=labelled, **common, **frames)
    if source == "lists":
        raise NotPreparedError(
            f"{name} {split}: no prepared list {prepared}; run `action-run {name} prepare --root {root}"
            f"{' --rawframes' if modality == 'rawframes' else ''}` first, or pass source='annotations'"
        )
    found, media_dir, match = samples()
    if modality == "rawframes" and match != "dir":
        raise NotPreparedError(
            f"{name} {split}: rawframes were asked for but {prepared} does not exist; extract them with "
            f"`action-run {name} prepare --root {root} --rawframes`"
        )
    return build_from_samples(
        list(found),
        name=name,
        split=split,
        root=root,
        media_dir=media_dir,
        match=match,
        missing=missing,
        **common,
        **frames,
    )
