"""Readers of the official Kinetics CSV files (400, 600, 700 and 700-2020 releases).

Header ``label,youtube_id,time_start,time_end,split`` (newer releases append ``is_cc``); the test CSV of
some releases has no ``label`` column. Columns are found by name, so either form reads. A clip's file is
``{youtube_id}_{start:06d}_{end:06d}.mp4`` (times written as ``59`` or ``59.0`` both give ``000059``).

Class names follow MMAction2: double quotes removed and spaces replaced with ``_``; class ``i`` is the
``i``-th of the sorted distinct (converted) labels of the training CSV.
"""

from __future__ import annotations

import csv
import io
import os

from action_core.api import AnnotationError, Sample, class_index, find_dir, find_file, read_class_list

VERSIONS = (400, 600, 700)
ANNOTATION_DIRS = ["annotations", ""]
_CSV_NAMES = {
    "train": ["train.csv", "kinetics_train.csv", "kinetics-{v}_train.csv", "kinetics{v}_train.csv"],
    "val": [
        "validate.csv",
        "val.csv",
        "validation.csv",
        "kinetics_val.csv",
        "kinetics-{v}_val.csv",
        "kinetics-{v}_validate.csv",
        "kinetics{v}_val.csv",
    ],
    "test": ["test.csv", "kinetics_test.csv", "kinetics-{v}_test.csv", "kinetics{v}_test.csv"],
}
_MEDIA_DIRS = {
    "train": ["train", "videos_train", "train_256"],
    "val": ["val", "validate", "validation", "videos_val", "val_256"],
    "test": ["test", "videos_test", "test_256"],
}
REQUIRED = ("youtube_id", "time_start", "time_end")


def convert_label(name: str) -> str:
    """MMAction2's class name: double quotes removed, spaces replaced by ``_``."""
    return name.replace('"', "").replace(" ", "_")


def clip_name(youtube_id: str, start: float, end: float) -> str:
    """``{youtube_id}_{start:06d}_{end:06d}`` (seconds truncated to integers)."""
    return f"{youtube_id}_{int(start):06d}_{int(end):06d}"


def shipped_classes(version: int) -> list[str] | None:
    """The class list shipped for ``version`` (converted names in label order), if this package has one."""
    try:
        return read_class_list("action_kinetics", f"data/kinetics{version}_classes.txt")
    except FileNotFoundError:
        return None


def read_csv(path: str | os.PathLike[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of an official CSV as ``(line number, {column: value})``; checks the header and field counts."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=name) from e
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as e:
        raise AnnotationError(
            "the CSV is empty; expected a header 'label,youtube_id,time_start,time_end,split'", path=name
        ) from e
    absent = [c for c in REQUIRED if c not in header]
    if absent:
        raise AnnotationError(
            f"header {','.join(header)!r} lacks {', '.join(absent)}; expected 'label,youtube_id,time_start,time_end,split'"
            " (test CSVs may omit label)",
            path=name,
            line=1,
        )
    rows = []
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise AnnotationError(
                f"row has {len(fields)} fields but the header has {len(header)} ({','.join(header)})",
                path=name,
                line=line,
            )
        rows.append((line, {h: v.strip() for h, v in zip(header, fields, strict=True)}))
    return rows


def _time(value: str, what: str, *, path: str, line: int) -> float:
    try:
        t = float(value)
    except ValueError as e:
        raise AnnotationError(f"{what} {value!r} is not a number of seconds", path=path, line=line) from e
    if t < 0:
        raise AnnotationError(f"{what} {value!r} is negative", path=path, line=line)
    return t


def classes_from_train_csv(path: str | os.PathLike[str]) -> list[str]:
    """Sorted distinct converted labels of the training CSV (MMAction2's numbering)."""
    labels = {convert_label(row["label"]) for _, row in read_csv(path) if row.get("label")}
    if not labels:
        raise AnnotationError("the training CSV has no labels", path=os.fspath(path))
    return sorted(labels)


def read_split_csv(path: str | os.PathLike[str], classes: list[str] | None) -> list[Sample]:
    """Samples of one CSV. With ``classes`` labels are mapped (an unknown label is an error); test rows
    without a label (or ``classes=None``) are unlabelled."""
    name = os.fspath(path)
    mapping = class_index(classes, path=name) if classes is not None else None
    samples = []
    for line, row in read_csv(path):
        if not row["youtube_id"]:
            raise AnnotationError("empty youtube_id", path=name, line=line)
        start = _time(row["time_start"], "time_start", path=name, line=line)
        end = _time(row["time_end"], "time_end", path=name, line=line)
        if end <= start:
            raise AnnotationError(
                f"time_end {row['time_end']} is not after time_start {row['time_start']}",
                path=name,
                line=line,
            )
        label = None
        text = row.get("label", "")
        if text and mapping is not None:
            key = convert_label(text)
            if key not in mapping:
                raise AnnotationError(
                    f"label {text!r} is not a class of the training CSV ({len(mapping)} classes)",
                    path=name,
                    line=line,
                )
            label = mapping[key]
        samples.append(Sample(clip_name(row["youtube_id"], start, end) + ".mp4", label, f"{name}:{line}"))
    return samples


def csv_path(root: str | os.PathLike[str], split: str, version: int) -> str:
    """The official CSV of ``split`` (train, val, test) in a local copy."""
    if version not in VERSIONS:
        raise ValueError(f"Kinetics version must be one of {VERSIONS}, got {version!r}")
    if split not in _CSV_NAMES:
        raise ValueError(f"Kinetics split must be 'train', 'val' or 'test', got {split!r}")
    names = [n.format(v=version) for n in _CSV_NAMES[split]]
    return find_file(
        root, [os.path.join(d, n) for d in ANNOTATION_DIRS for n in names], f"Kinetics-{version} {split} CSV"
    )


def load_classes(root: str | os.PathLike[str], version: int) -> list[str]:
    """Classes numbered from the copy's training CSV, else the shipped list of ``version``."""
    try:
        path = csv_path(root, "train", version)
    except AnnotationError:
        shipped = shipped_classes(version)
        if shipped is None:
            raise
        return shipped
    return classes_from_train_csv(path)


def load(root: str | os.PathLike[str], split: str, version: int) -> tuple[list[str], list[Sample]]:
    """Classes and samples of ``split`` of a local Kinetics-``version`` copy."""
    classes = load_classes(root, version)
    return classes, read_split_csv(csv_path(root, split, version), classes)


def video_dir(root: str | os.PathLike[str], split: str) -> str:
    """The folder of ``split``'s clips (flat, or one folder per class; matched by clip name either way)."""
    return find_dir(root, _MEDIA_DIRS[split])
