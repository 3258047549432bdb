"""Readers of HMDB51's official split files (``test_train_splits.rar``: ``testTrainMulti_7030_splits/``).

There are 153 files ``<class>_test_split{1,2,3}.txt`` (51 classes x 3 splits). Each row is
``<video.avi> <flag>``: 1 = training, 2 = testing, 0 = not used in that split. Class ids are the positions of
the class names in sorted order (what MMAction2 derives from the sorted class folders), 0-based.
"""

from __future__ import annotations

import os
import re

from action_core.api import AnnotationError, Sample, find_dir, read_class_list, text_rows

SPLITS = (1, 2, 3)
ANNOTATION_DIRS = ["testTrainMulti_7030_splits", "test_train_splits", "annotations", ""]
VIDEO_DIRS = ["hmdb51_org", "videos", "hmdb51", ""]
_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<n>[123])\.txt$")
FLAGS = {"train": "1", "val": "2", "test": "2"}


def shipped_classes() -> list[str]:
    """The 51 class names in label order, as shipped with this package."""
    return read_class_list("action_hmdb51", "data/classes.txt")


def annotation_dir(root: str | os.PathLike[str]) -> str:
    """The folder holding the split files."""
    for rel in ANNOTATION_DIRS:
        folder = os.path.join(os.fspath(root), rel)
        if os.path.isdir(folder) and any(_SPLIT_FILE.match(f) for f in os.listdir(folder)):
            return folder
    raise AnnotationError(
        f"no HMDB51 split files (<class>_test_split1.txt ...) found in {', '.join(ANNOTATION_DIRS[:-1])} or the "
        "root; unpack test_train_splits.rar there",
        path=os.fspath(root),
    )


def split_files(folder: str) -> dict[str, dict[int, str]]:
    """``{class: {split number: path}}`` of the split files in ``folder``."""
    found: dict[str, dict[int, str]] = {}
    for f in sorted(os.listdir(folder)):
        m = _SPLIT_FILE.match(f)
        if m:
            found.setdefault(m["cls"], {})[int(m["n"])] = os.path.join(folder, f)
    return found


def classes_of(files: dict[str, dict[int, str]]) -> list[str]:
    """Class names in label order: sorted, as MMAction2 numbers them."""
    return sorted(files)


def read_split_file(path: str | os.PathLike[str], label: int, class_name: str, flag: str) -> list[Sample]:
    """Rows of one ``<class>_test_splitN.txt`` carrying ``flag`` (``"1"`` train, ``"2"`` test)."""
    name = os.fspath(path)
    samples = []
    for line_no, line in text_rows(path):
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise AnnotationError(
                f"row {line!r} is not '<video.avi> <flag>' with flag 0 (unused), 1 (train) or 2 (test)",
                path=name,
                line=line_no,
            )
        if fields[1] == flag:
            samples.append(Sample(f"{class_name}/{fields[0]}", label, f"{name}:{line_no}"))
    return samples


def load(root: str | os.PathLike[str], split: str, number: int = 1) -> tuple[list[str], list[Sample]]:
    """Classes and samples of ``split`` (train, val or test; val = test) of split ``number``."""
    if number not in SPLITS:
        raise ValueError(f"HMDB51 has splits 1, 2 and 3; got split_number={number!r}")
    if split not in FLAGS:
        raise ValueError(f"HMDB51 split must be 'train', 'val' or 'test', got {split!r}")
    folder = annotation_dir(root)
    files = split_files(folder)
    classes = classes_of(files)
    lacking = [c for c in classes if number not in files[c]]
    if lacking:
        raise AnnotationError(
            f"split {number} files are missing for {len(lacking)} class(es): "
            + ", ".join(f"{c}_test_split{number}.txt" for c in lacking[:5])
            + " (the official release has 153 files: 51 classes x 3 splits)",
            path=folder,
        )
    samples = []
    for label, cls in enumerate(classes):
        samples += read_split_file(files[cls][number], label, cls, FLAGS[split])
    return classes, samples


def load_classes(root: str | os.PathLike[str]) -> list[str]:
    """Classes of the copy's split files, or the shipped list when the copy has none."""
    try:
        return classes_of(split_files(annotation_dir(root)))
    except AnnotationError:
        return shipped_classes()


def list_key(split: str, number: int) -> str:
    """How ``prepare`` names the list of a split: ``train_split1``, ``test_split1``, ..."""
    return f"{'train' if split == 'train' else 'test'}_split{number}"


def video_dir(root: str | os.PathLike[str]) -> str:
    """The folder holding the class folders of videos."""
    return find_dir(root, VIDEO_DIRS)
