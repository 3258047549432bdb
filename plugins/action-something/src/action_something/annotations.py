"""Readers of the official Something-Something annotation files.

V1 (``something-something-v1-*.csv``, ``;``-separated): the labels file lists one class per line (class =
line order, 0-based); train/validation rows are ``<video_id>;<label text>``, test rows ``<video_id>``. Clips
are frame folders ``20bn-something-something-v1/<video_id>/00001.jpg`` ...

V2 (``something-something-v2-*.json``): the labels file maps ``template -> "index"``; train/validation are
lists of ``{id, label, template, placeholders}`` whose class is ``template`` with ``[`` and ``]`` removed
(``label`` has the placeholders filled in, so it is *not* the class); test is a list of ``{id}``. Clips are
``20bn-something-something-v2/<id>.webm``.

Both follow MMAction2's numbering. :func:`flip_label_map` pairs the classes that a horizontal flip turns into
each other ("... from left to right" <-> "... from right to left").
"""

from __future__ import annotations

import json
import os
import re

from action_core.api import (
    AnnotationError,
    Sample,
    class_index,
    find_dir,
    find_file,
    read_class_list,
    text_rows,
)

ANNOTATION_DIRS = ["annotations", ""]
V1_FILES = {
    "labels": "something-something-v1-labels.csv",
    "train": "something-something-v1-train.csv",
    "val": "something-something-v1-validation.csv",
    "test": "something-something-v1-test.csv",
}
V2_FILES = {
    "labels": "something-something-v2-labels.json",
    "train": "something-something-v2-train.json",
    "val": "something-something-v2-validation.json",
    "test": "something-something-v2-test.json",
}
V1_MEDIA = ["20bn-something-something-v1", "rawframes", "frames"]
V2_MEDIA = ["20bn-something-something-v2", "videos"]
V1_FRAME_TEMPLATE = "{:05d}.jpg"


def shipped_classes(version: int) -> list[str]:
    """The 174 classes of ``version`` (1 or 2) in label order, as shipped with this package."""
    return read_class_list("action_something", f"data/sthv{version}_classes.txt")


def flip_label_map(classes: list[str]) -> dict[int, int]:
    """``{label: label after a horizontal flip}`` for classes naming a left/right direction (both ways)."""
    mapping = class_index(classes, path="class list")
    swap = {"left": "right", "right": "left"}
    flips = {}
    for i, name in enumerate(classes):
        mirrored = re.sub(r"\b(left|right)\b", lambda m: swap[m.group(1)], name)
        if mirrored != name and mirrored in mapping:
            flips[i] = mapping[mirrored]
    return flips


def _file(root: str | os.PathLike[str], name: str) -> str:
    return find_file(root, [os.path.join(d, name) for d in ANNOTATION_DIRS], name)


# -- V1 ---------------------------------------------------------------------------------------------------


def read_v1_labels(path: str | os.PathLike[str]) -> list[str]:
    """Classes of ``something-something-v1-labels.csv`` (line order)."""
    classes = [line for _, line in text_rows(path)]
    class_index(classes, path=os.fspath(path))
    return classes


def read_v1_split(path: str | os.PathLike[str], classes: list[str] | None) -> list[Sample]:
    """Samples of a V1 train/validation (``id;label``) or test (``id``) CSV."""
    name = os.fspath(path)
    mapping = class_index(classes, path=name) if classes is not None else None
    samples = []
    for line_no, line in text_rows(path):
        vid, sep, text = line.partition(";")
        vid = vid.strip()
        if mapping is not None and not sep:
            raise AnnotationError(f"row {line!r} is not '<video_id>;<label>'", path=name, line=line_no)
        if not vid.isdigit():
            raise AnnotationError(
                f"row {line!r} does not start with a numeric video id", path=name, line=line_no
            )
        if mapping is None:
            samples.append(Sample(vid, None, f"{name}:{line_no}"))
            continue
        label = mapping.get(text.strip())
        if label is None:
            raise AnnotationError(
                f"label {text.strip()!r} is not in something-something-v1-labels.csv", path=name, line=line_no
            )
        samples.append(Sample(vid, label, f"{name}:{line_no}"))
    return samples


# -- V2 ---------------------------------------------------------------------------------------------------


def _json_items(path: str | os.PathLike[str]) -> list[tuple[int, object]]:
    """Elements of a top-level JSON list with the line each starts on."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=name) from e
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text[pos : pos + 1] == "[":
        raise AnnotationError("expected a JSON list of clips", path=name, line=text.count("\n", 0, pos) + 1)
    pos += 1
    items = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise AnnotationError(
                "the JSON list is not closed with ']'", path=name, line=text.count("\n") + 1
            )
        if text[pos] == "]":
            return items
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise AnnotationError(f"malformed JSON: {e.msg}", path=name, line=e.lineno) from e
        items.append((line, obj))


def read_v2_labels(path: str | os.PathLike[str]) -> list[str]:
    """Classes of ``something-something-v2-labels.json`` (``{template: "index"}``) in index order."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=name) from e
    except json.JSONDecodeError as e:
        raise AnnotationError(f"malformed JSON: {e.msg}", path=name, line=e.lineno) from e
    if not isinstance(data, dict):
        raise AnnotationError('expected a JSON object {"template": "index", ...}', path=name)
    by_index: dict[int, str] = {}
    for template, index in data.items():
        try:
            i = int(index)
        except (TypeError, ValueError) as e:
            raise AnnotationError(f"index {index!r} of {template!r} is not an integer", path=name) from e
        if i in by_index:
            raise AnnotationError(f"index {i} is used by {by_index[i]!r} and {template!r}", path=name)
        by_index[i] = template
    if sorted(by_index) != list(range(len(by_index))):
        raise AnnotationError(f"class indices must run 0..{len(by_index) - 1} without gaps", path=name)
    return [by_index[i] for i in range(len(by_index))]


def template_class(template: str) -> str:
    """The class of a V2 clip: its template with the ``[`` ``]`` placeholder brackets removed."""
    return template.replace("[", "").replace("]", "")


def read_v2_split(path: str | os.PathLike[str], classes: list[str] | None) -> list[Sample]:
    """Samples of a V2 train/validation (labelled from ``template``) or test (ids only) JSON file."""
    name = os.fspath(path)
    mapping = class_index(classes, path=name) if classes is not None else None
    samples = []
    for line, item in _json_items(path):
        if not isinstance(item, dict) or "id" not in item:
            raise AnnotationError(f"clip entry {item!r} has no 'id'", path=name, line=line)
        vid = str(item["id"]).strip()
        if not vid:
            raise AnnotationError("empty clip id", path=name, line=line)
        if mapping is None:
            samples.append(Sample(f"{vid}.webm", None, f"{name}:{line}"))
            continue
        template = item.get("template")
        if not isinstance(template, str):
            raise AnnotationError(
                f"clip {vid} has no 'template' (needed for its class)", path=name, line=line
            )
        label = mapping.get(template_class(template))
        if label is None:
            raise AnnotationError(
                f"clip {vid}: template {template!r} (class {template_class(template)!r}) is not in the labels JSON",
                path=name,
                line=line,
            )
        samples.append(Sample(f"{vid}.webm", label, f"{name}:{line}"))
    return samples


# -- both -------------------------------------------------------------------------------------------------


def load_classes(root: str | os.PathLike[str], version: int) -> list[str]:
    """Classes of the copy's labels file, or the shipped list when it has none."""
    files = V1_FILES if version == 1 else V2_FILES
    try:
        path = _file(root, files["labels"])
    except AnnotationError:
        return shipped_classes(version)
    return read_v1_labels(path) if version == 1 else read_v2_labels(path)


def load(root: str | os.PathLike[str], split: str, version: int) -> tuple[list[str], list[Sample]]:
    """Classes and samples of ``split`` (train, val, test) of a local Something-Something V``version`` copy."""
    if version not in (1, 2):
        raise ValueError(f"Something-Something version must be 1 or 2, got {version!r}")
    files = V1_FILES if version == 1 else V2_FILES
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    classes = (
        read_v1_labels(_file(root, files["labels"]))
        if version == 1
        else read_v2_labels(_file(root, files["labels"]))
    )
    path = _file(root, files[split])
    labelled = classes if split != "test" else None
    samples = read_v1_split(path, labelled) if version == 1 else read_v2_split(path, labelled)
    return classes, samples


def media_dir(root: str | os.PathLike[str], version: int) -> str:
    """The folder of frame folders (V1) or webm files (V2)."""
    return find_dir(root, V1_MEDIA if version == 1 else V2_MEDIA)
