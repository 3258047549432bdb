"""Readers of the official Moments in Time and Multi-Moments in Time annotation files.

Moments in Time: ``moments_categories.txt`` rows ``<class>,<index>``; ``trainingSet.csv`` /
``validationSet.csv`` rows ``<class>/<clip>.mp4,<class>,<n_pos>,<n_neg>`` without a header. As in MMAction2
the label is the index of the clip's folder; a second column naming another class is an error.

Multi-Moments in Time: rows ``<file>,<label>,<label>,...`` with 0-based indices into its 313 categories
(``<class>,<index>`` rows, or one name per line); trained with BCE, evaluated with mAP. There is no test split
(``test`` is the validation set, as in MMAction2).
"""

from __future__ import annotations

import csv
import io
import os

from action_core.api import AnnotationError, Sample, class_index, find_dir, find_file, read_class_list

FILES = {"train": "trainingSet.csv", "val": "validationSet.csv", "test": "validationSet.csv"}
MIT_ANNOTATION_DIRS = ["", "Moments_in_Time_Raw", "annotations"]
MMIT_ANNOTATION_DIRS = ["", "Multi_Moments_in_Time", "annotations"]
MEDIA = {"train": "training", "val": "validation", "test": "validation"}
MIT_NUM_CLASSES = 339
MMIT_NUM_CLASSES = 313


def shipped_classes(dataset: str) -> list[str]:
    """The class names of ``mit`` or ``mmit`` in label order, as shipped with this package."""
    return read_class_list("action_mit", f"data/{dataset}_classes.txt")


def _csv_rows(path: str | os.PathLike[str]) -> list[tuple[int, list[str]]]:
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=name) from e
    reader = csv.reader(io.StringIO(text))
    rows = []
    for fields in reader:
        if fields and any(f.strip() for f in fields):
            rows.append((reader.line_num, [f.strip() for f in fields]))
    return rows


def read_categories(path: str | os.PathLike[str]) -> list[str]:
    """Classes of a categories file: ``<class>,<index>`` rows (indices 0..N-1), or one name per line."""
    name = os.fspath(path)
    rows = _csv_rows(path)
    if rows and all(len(fields) == 1 for _, fields in rows):
        classes = [fields[0] for _, fields in rows]
    else:
        by_index: dict[int, str] = {}
        for line, fields in rows:
            if len(fields) != 2 or not fields[1].isdigit():
                raise AnnotationError(
                    f"row {','.join(fields)!r} is not '<class>,<index>'", path=name, line=line
                )
            if int(fields[1]) in by_index:
                raise AnnotationError(f"index {fields[1]} is listed twice", path=name, line=line)
            by_index[int(fields[1])] = fields[0]
        if sorted(by_index) != list(range(len(by_index))):
            raise AnnotationError(f"category indices must run 0..{len(by_index) - 1} without gaps", path=name)
        classes = [by_index[i] for i in range(len(by_index))]
    class_index(classes, path=name)
    return classes


def read_mit_split(path: str | os.PathLike[str], classes: list[str]) -> list[Sample]:
    """Samples of a Moments in Time ``trainingSet.csv`` / ``validationSet.csv``."""
    name = os.fspath(path)
    mapping = class_index(classes, path=name)
    samples = []
    for line, fields in _csv_rows(path):
        video = fields[0]
        folder = os.path.dirname(video)
        if not folder:
            raise AnnotationError(
                f"clip {video!r} has no class folder ('<class>/<clip>.mp4')", path=name, line=line
            )
        if folder not in mapping:
            raise AnnotationError(
                f"class {folder!r} of {video!r} is not in the categories file", path=name, line=line
            )
        if len(fields) > 1 and fields[1] and fields[1] != folder:
            raise AnnotationError(
                f"the class column {fields[1]!r} disagrees with the clip's folder {folder!r}",
                path=name,
                line=line,
            )
        samples.append(Sample(video, mapping[folder], f"{name}:{line}"))
    return samples


def read_mmit_split(path: str | os.PathLike[str], num_classes: int) -> list[Sample]:
    """Samples of a Multi-Moments in Time split: ``<file>,<label>,...`` (0-based labels)."""
    name = os.fspath(path)
    samples = []
    for line, fields in _csv_rows(path):
        video, raw = fields[0], [f for f in fields[1:] if f]
        if not raw:
            raise AnnotationError(
                f"clip {video!r} has no labels; rows are '<file>,<label>,<label>,...'", path=name, line=line
            )
        labels = []
        for value in raw:
            if not value.isdigit():
                raise AnnotationError(
                    f"label {value!r} of {video!r} is not a non-negative integer", path=name, line=line
                )
            if int(value) >= num_classes:
                raise AnnotationError(
                    f"label {value} of {video!r} is out of range for {num_classes} classes (labels are 0-based)",
                    path=name,
                    line=line,
                )
            labels.append(int(value))
        samples.append(Sample(video, tuple(labels), f"{name}:{line}"))
    return samples


def _dirs(dataset: str) -> list[str]:
    return MIT_ANNOTATION_DIRS if dataset == "mit" else MMIT_ANNOTATION_DIRS


def load_classes(root: str | os.PathLike[str], dataset: str) -> list[str]:
    """Classes of the copy's ``moments_categories.txt``, or the shipped list when it has none."""
    try:
        path = find_file(
            root,
            [os.path.join(d, "moments_categories.txt") for d in _dirs(dataset)],
            "moments_categories.txt",
        )
    except AnnotationError:
        return shipped_classes(dataset)
    return read_categories(path)


def load(root: str | os.PathLike[str], split: str, dataset: str) -> tuple[list[str], list[Sample]]:
    """Classes and samples of ``split`` (train, val; test = val) of ``mit`` or ``mmit``."""
    if split not in FILES:
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    if dataset not in ("mit", "mmit"):
        raise ValueError(f"dataset must be 'mit' or 'mmit', got {dataset!r}")
    classes = load_classes(root, dataset)
    path = find_file(root, [os.path.join(d, FILES[split]) for d in _dirs(dataset)], FILES[split])
    if dataset == "mit":
        return classes, read_mit_split(path, classes)
    return classes, read_mmit_split(path, len(classes))


def media_dir(root: str | os.PathLike[str], split: str, dataset: str) -> str:
    """The folder of ``split``'s clips (``training`` / ``validation``)."""
    sub = MEDIA[split]
    top = "Moments_in_Time_Raw" if dataset == "mit" else "Multi_Moments_in_Time"
    return find_dir(root, [sub, f"videos/{sub}", f"{top}/{sub}", f"{top}/videos/{sub}"])


def match_mode(samples: list[Sample]) -> str:
    """Match by path when the annotations name class folders, else by file name."""
    return "path" if any("/" in s.video for s in samples) else "name"
