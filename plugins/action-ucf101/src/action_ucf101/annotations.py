"""Readers of UCF101's official split files (``UCF101TrainTestSplits-RecognitionTask.zip``).

- ``classInd.txt``: ``<1-based id> <ClassName>``; label = id - 1 (as MMAction2).
- ``trainlist0N.txt``: ``<ClassName>/<v_ClassName_gXX_cYY.avi> <1-based id>``.
- ``testlist0N.txt``: ``<ClassName>/<video.avi>`` only; the label comes from the class folder (as MMAction2).

The folder name is the class (note that the folder ``HandstandPushups`` holds files named
``v_HandStandPushups_*``); a train row whose id disagrees with its folder is an error, never a silent shift.
"""

from __future__ import annotations

import os

from action_core.api import (
    AnnotationError,
    Sample,
    class_index,
    find_dir,
    find_file,
    read_class_list,
    text_rows,
)

SPLITS = (1, 2, 3)
ANNOTATION_DIRS = ["ucfTrainTestlist", "annotations", ""]
VIDEO_DIRS = ["UCF-101", "UCF101", "videos", ""]


def shipped_classes() -> list[str]:
    """The 101 class names in label order, as shipped with this package."""
    return [line.split(maxsplit=1)[1] for line in read_class_list("action_ucf101", "data/classInd.txt")]


def read_class_ind(path: str | os.PathLike[str]) -> list[str]:
    """Class names from ``classInd.txt`` in label order (ids must be 1..N, each once)."""
    name = os.fspath(path)
    by_id: dict[int, str] = {}
    for line_no, line in text_rows(path):
        fields = line.split()
        if len(fields) != 2 or not fields[0].isdigit():
            raise AnnotationError(f"row {line!r} is not '<1-based id> <ClassName>'", path=name, line=line_no)
        cid = int(fields[0])
        if cid in by_id:
            raise AnnotationError(f"class id {cid} is listed twice", path=name, line=line_no)
        by_id[cid] = fields[1]
    if sorted(by_id) != list(range(1, len(by_id) + 1)):
        raise AnnotationError(f"class ids must run 1..{len(by_id)} without gaps (ids are 1-based)", path=name)
    classes = [by_id[i] for i in range(1, len(by_id) + 1)]
    class_index(classes, path=name)
    return classes


def read_split_list(path: str | os.PathLike[str], classes: list[str]) -> list[Sample]:
    """Samples of a ``trainlist0N.txt`` (labelled) or ``testlist0N.txt`` (path only) file."""
    name = os.fspath(path)
    mapping = class_index(classes, path=name)
    samples = []
    for line_no, line in text_rows(path):
        fields = line.split()
        if len(fields) not in (1, 2):
            raise AnnotationError(
                f"row {line!r} is not '<Class>/<video.avi> [<1-based id>]'", path=name, line=line_no
            )
        video = fields[0]
        folder = os.path.dirname(video)
        if folder not in mapping:
            raise AnnotationError(
                f"the class folder {folder!r} of {video!r} is not in classInd.txt", path=name, line=line_no
            )
        label = mapping[folder]
        if len(fields) == 2:
            if not fields[1].isdigit():
                raise AnnotationError(
                    f"class id {fields[1]!r} is not a positive integer", path=name, line=line_no
                )
            if int(fields[1]) - 1 != label:
                raise AnnotationError(
                    f"class id {fields[1]} ({classes[int(fields[1]) - 1] if 0 < int(fields[1]) <= len(classes) else 'out of range'}) "
                    f"disagrees with the folder {folder!r} (id {label + 1}); ids are 1-based",
                    path=name,
                    line=line_no,
                )
        samples.append(Sample(video, label, f"{name}:{line_no}"))
    return samples


def split_file_name(split: str, number: int) -> str:
    """Name of the official list for ``split`` (train, val or test; val and test are the test list)."""
    if number not in SPLITS:
        raise ValueError(f"UCF101 has splits 1, 2 and 3; got split_number={number!r}")
    kind = {"train": "trainlist", "val": "testlist", "test": "testlist"}.get(split)
    if kind is None:
        raise ValueError(f"UCF101 split must be 'train', 'val' or 'test', got {split!r}")
    return f"{kind}{number:02d}.txt"


def list_key(split: str, number: int) -> str:
    """How ``prepare`` names the list of a split: ``train_split1``, ``test_split1``, ..."""
    return f"{'train' if split == 'train' else 'test'}_split{number}"


def _find(root: str | os.PathLike[str], file: str) -> str:
    return find_file(root, [os.path.join(d, file) for d in ANNOTATION_DIRS], file)


def load_classes(root: str | os.PathLike[str]) -> list[str]:
    """Classes from the copy's ``classInd.txt``, or the shipped list when the copy has none."""
    try:
        path = _find(root, "classInd.txt")
    except AnnotationError:
        return shipped_classes()
    return read_class_ind(path)


def load(root: str | os.PathLike[str], split: str, number: int = 1) -> tuple[list[str], list[Sample]]:
    """Classes and samples of one split of a local UCF101 copy."""
    classes = read_class_ind(_find(root, "classInd.txt"))
    return classes, read_split_list(_find(root, split_file_name(split, number)), classes)


def video_dir(root: str | os.PathLike[str]) -> str:
    """The folder holding the class folders (``UCF-101`` as the official rar unpacks)."""
    return find_dir(root, VIDEO_DIRS)
