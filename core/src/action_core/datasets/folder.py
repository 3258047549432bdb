"""One's own videos as a dataset: a folder of class folders, or a plain list, split when it has no split.

Layouts read by :func:`scan_videos`:

- ``root/<class>/<video>``: one folder per class (class names sorted, or a given label map; videos in
  nested folders count for the class folder they are in);
- ``root/train/<class>/...``, ``root/val/<class>/...``, ``root/test/<class>/...``: the same with the user's
  own split (``val`` and ``test`` are optional; missing ones are drawn from ``train``);
- a plain list file (:func:`~action_core.data.lists.parse_plain_list`): ``PATH LABEL`` rows (a class name
  or a 0-based index), ``PATH LABEL1,LABEL2`` for multi-label rows and optional ``START END`` seconds;
  paths are relative to the list's folder.

Without a split, :func:`stratified_split` draws one deterministically from a seed: every class is spread
over train/val/test in the given ratios (at least one video of a class in each split when it has three).
:func:`prepare_video_folder` writes the split as lists (``train.txt``, ``val.txt``, ``test.txt``: ``PATH
LABEL`` with 0-based indices, MMAction2's video list format for single-label rows) and the label map
``classes.txt`` beside them; the registered ``video_folder`` dataset reads those lists (``lists=``) or
splits in memory the same way.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from action_core.data.lists import AnnotationError, parse_plain_list
from action_core.datasets.matching import VIDEO_EXTENSIONS
from action_core.datasets.samples import Sample
from action_core.errors import ActionError

__all__ = [
    "CLASSES_FILE",
    "DEFAULT_RATIOS",
    "SPLITS",
    "PreparedVideos",
    "VideoScan",
    "prepare_video_folder",
    "read_split_list",
    "scan_videos",
    "stratified_split",
    "video_folder",
]

SPLITS = ("train", "val", "test")
DEFAULT_RATIOS = (0.7, 0.15, 0.15)
CLASSES_FILE = "classes.txt"

Pipeline = Sequence[Mapping[str, Any] | Callable] | Callable


class VideoFolderError(ActionError, ValueError):
    """A folder or list of one's own videos cannot be used as it is; the message says what to change."""


@attrs.frozen
class VideoScan:
    """What :func:`scan_videos` found: every sample (paths relative to ``media_root``), the class names,
    whether any sample has several labels, and the user's own split when the layout has one."""

    media_root: str
    samples: list[Sample]
    classes: list[str]
    multi_label: bool
    splits: dict[str, list[Sample]] | None = None


def _videos_under(folder: Path, extensions: Sequence[str]) -> list[str]:
    exts = tuple(e.lower() for e in extensions)
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(exts) and not name.startswith("."):
                found.append(Path(dirpath, name))
    return [p.relative_to(folder).as_posix() for p in found]


def _class_folders(folder: Path) -> list[str]:
    return sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _label_map(classes: Sequence[str] | str | os.PathLike[str] | None) -> list[str] | None:
    if classes is None:
        return None
    if isinstance(classes, (str, os.PathLike)):
        path = Path(classes)
        try:
            names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
        except OSError as e:
            raise VideoFolderError(f"cannot read the label map {str(path)!r}: {e.strerror or e}") from e
        names = [n for n in names if n]
        where = str(path)
    else:
        names, where = [str(c) for c in classes], "classes"
    if not names:
        raise VideoFolderError(f"the label map {where!r} is empty; write one class name per line")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise VideoFolderError(
            f"the label map {where!r} repeats {', '.join(repeated)}; class names are unique"
        )
    return names


def _scan_class_folders(
    folder: Path, classes: list[str] | None, extensions: Sequence[str], prefix: str = ""
) -> tuple[list[Sample], list[str]]:
    present = _class_folders(folder)
    names = classes if classes is not None else present
    unknown = [c for c in present if c not in names]
    if unknown:
        raise VideoFolderError(
            f"{folder}: class folder(s) {', '.join(unknown)} are not in the label map; add them to it or move "
            "them out of the folder"
        )
    index = {c: i for i, c in enumerate(names)}
    samples = []
    for name in present:
        for rel in _videos_under(folder / name, extensions):
            samples.append(Sample(f"{prefix}{name}/{rel}", index[name], where=str(folder / name / rel)))
    return samples, names


def _resolve_labels(
    rows: list[Any], classes: list[str] | None, list_path: str
) -> tuple[list[Sample], list[str], bool]:
    tokens = [t for row in rows for t in row.labels]
    if classes is None:
        if tokens and all(t.isdigit() for t in tokens):
            classes = [str(i) for i in range(max(int(t) for t in tokens) + 1)]
        else:
            classes = sorted(set(tokens))
    index = {c: i for i, c in enumerate(classes)}
    samples = []
    multi = any(len(row.labels) > 1 for row in rows)
    for row in rows:
        ids = []
        for token in row.labels:
            if token in index:
                ids.append(index[token])
            elif token.isdigit() and int(token) < len(classes):
                ids.append(int(token))
            else:
                raise AnnotationError(
                    f"label {token!r} is neither a class name of the label map nor an index below "
                    f"{len(classes)} (classes: {', '.join(classes[:10])}{' ...' if len(classes) > 10 else ''})",
                    path=list_path,
                    line=row.line,
                )
        label: int | tuple[int, ...] | None
        if not ids:
            label = None
        elif multi:
            label = tuple(sorted(set(ids)))
        else:
            label = ids[0]
        samples.append(Sample(row.path, label, f"{list_path}:{row.line}", row.start, row.end))
    return samples, classes, multi


def scan_videos(
    source: str | os.PathLike[str],
    *,
    classes: Sequence[str] | str | os.PathLike[str] | None = None,
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> VideoScan:
    """Find the videos and labels of a class-folder tree, a tree split into train/val/test, or a plain list.

    ``classes`` is a label map (a list of names or a file with one name per line; line ``i`` is label
    ``i``); by default the sorted class folder names, or the sorted label names of a list (integer labels
    in a list are indices). Missing list entries are an error naming the list line.
    """
    path = Path(source)
    names = _label_map(classes)
    if path.is_file():
        rows = parse_plain_list(path)
        samples, found_classes, multi = _resolve_labels(rows, names, str(path))
        media_root = path.parent
        missing = [s for s in samples if not (media_root / s.video).is_file()]
        if missing:
            shown = "; ".join(f"{s.where}: {s.video}" for s in missing[:5])
            raise VideoFolderError(
                f"{len(missing)} video(s) of the list {str(path)!r} do not exist ({shown}"
                f"{' ...' if len(missing) > 5 else ''}); paths are relative to the list's folder"
            )
        if not samples:
            raise VideoFolderError(
                f"the list {str(path)!r} has no rows; write one 'PATH LABEL' row per video"
            )
        return VideoScan(str(media_root), samples, found_classes, multi)
    if not path.is_dir():
        raise VideoFolderError(
            f"{str(path)!r} is neither a folder of class folders nor a list file; check the path"
        )
    split_dirs = [s for s in SPLITS if (path / s).is_dir()]
    if "train" in split_dirs:
        if names is None:
            names = sorted({c for s in split_dirs for c in _class_folders(path / s)})
        splits = {}
        for split in split_dirs:
            splits[split], _ = _scan_class_folders(path / split, names, extensions, prefix=f"{split}/")
        samples = [s for split in split_dirs for s in splits[split]]
        scan = VideoScan(str(path), samples, names, False, splits)
    else:
        samples, found = _scan_class_folders(path, names, extensions)
        scan = VideoScan(str(path), samples, found, False)
    if not scan.samples:
        raise VideoFolderError(
            f"no videos ({', '.join(extensions)}) found in class folders under {str(path)!r}; the layout is "
            "ROOT/<class>/<video> (or ROOT/train/<class>/<video> with your own split)"
        )
    return scan


def _stratum(sample: Sample) -> Any:
    return sample.label if not isinstance(sample.label, tuple) else sample.label[:1]


def stratified_split(
    samples: Sequence[Sample], *, ratios: Sequence[float] = DEFAULT_RATIOS, seed: int = 0
) -> dict[str, list[Sample]]:
    """Split ``samples`` into train/val/test class by class (multi-label: by the first label).

    The same samples, ratios and seed always give the same split, whatever order the samples come in.
    A class of ``n >= 3`` videos puts at least one in val and one in test; ``ratios`` are train, val, test.
    """
    if len(ratios) != 3 or any(r < 0 for r in ratios) or not sum(ratios) > 0 or ratios[0] <= 0:
        raise VideoFolderError(
            f"split ratios {list(ratios)} must be three non-negative numbers (train, val, test), train > 0"
        )
    total = float(sum(ratios))
    val_share, test_share = ratios[1] / total, ratios[2] / total
    groups: dict[Any, list[Sample]] = {}
    for sample in sorted(samples, key=lambda s: (s.video, s.start or 0.0, s.end or 0.0)):
        groups.setdefault(_stratum(sample), []).append(sample)
    out: dict[str, list[Sample]] = {s: [] for s in SPLITS}
    rng = random.Random(seed)
    for key in sorted(groups, key=repr):
        members = list(groups[key])
        rng.shuffle(members)
        n = len(members)
        n_val, n_test = round(n * val_share), round(n * test_share)
        if n >= 3:
            n_val = max(n_val, 1) if val_share > 0 else 0
            n_test = max(n_test, 1) if test_share > 0 else 0
        n_val = min(n_val, max(n - 1, 0))
        n_test = min(n_test, max(n - 1 - n_val, 0))
        out["val"] += members[:n_val]
        out["test"] += members[n_val : n_val + n_test]
        out["train"] += members[n_val + n_test :]
    return {k: sorted(v, key=lambda s: s.video) for k, v in out.items()}


def _complete_split(scan: VideoScan, ratios: Sequence[float], seed: int) -> dict[str, list[Sample]]:
    if scan.splits is None:
        return stratified_split(scan.samples, ratios=ratios, seed=seed)
    splits = dict(scan.splits)
    absent = [s for s in ("val", "test") if s not in splits]
    if absent:
        # The user's train folder gives what their split lacks, in the ratios of the missing parts.
        shares = {"train": ratios[0], "val": ratios[1] if "val" in absent else 0.0}
        shares["test"] = ratios[2] if "test" in absent else 0.0
        drawn = stratified_split(
            splits["train"], ratios=(shares["train"], shares["val"], shares["test"]), seed=seed
        )
        splits["train"] = drawn["train"]
        for split in absent:
            splits[split] = drawn[split]
    return splits


def _row(sample: Sample) -> str:
    fields = [sample.video]
    if isinstance(sample.label, tuple):
        fields.append(",".join(str(v) for v in sample.label))
    elif sample.label is not None:
        fields.append(str(sample.label))
    if sample.start is not None and sample.end is not None:
        fields += [f"{sample.start:g}", f"{sample.end:g}"]
    return ("\t" if " " in sample.video else " ").join(fields)


@attrs.frozen
class PreparedVideos:
    """Where :func:`prepare_video_folder` wrote the split lists and label map, and what they hold."""

    media_root: str
    lists: str
    classes: list[str]
    multi_label: bool
    counts: dict[str, int]

    def describe(self) -> str:
        """One line: classes and the videos per split."""
        per_split = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return (
            f"{sum(self.counts.values())} videos of {len(self.classes)} classes ({', '.join(self.classes[:8])}"
            f"{' ...' if len(self.classes) > 8 else ''}): {per_split}; lists and label map in {self.lists}"
        )


def prepare_video_folder(
    source: str | os.PathLike[str],
    lists_dir: str | os.PathLike[str],
    *,
    classes: Sequence[str] | str | os.PathLike[str] | None = None,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
    write: bool = True,
) -> PreparedVideos:
    """Scan ``source`` (:func:`scan_videos`), split it when it has no split, and (``write``) write
    ``train.txt``, ``val.txt``, ``test.txt`` and the label map ``classes.txt`` into ``lists_dir``."""
    from action_core.datasets.prepare import write_text_atomic

    scan = scan_videos(source, classes=classes)
    splits = _complete_split(scan, ratios, seed)
    empty = [s for s in SPLITS if not splits[s]]
    if empty:
        sizes: dict[Any, int] = {}
        for sample in scan.samples:
            sizes[_stratum(sample)] = sizes.get(_stratum(sample), 0) + 1
        smallest = min(sizes, key=lambda k: (sizes[k], repr(k)))
        name = scan.classes[smallest] if isinstance(smallest, int) else smallest
        raise VideoFolderError(
            f"{str(source)!r}: the {' and '.join(empty)} split would be empty ({len(scan.samples)} videos; "
            f"the smallest class, {name!r}, has {sizes[smallest]}); give every class at least 3 videos, or "
            "make your own split as train/val/test folders"
        )
    lists = Path(lists_dir)
    if write:
        for split in SPLITS:
            write_text_atomic(str(lists / f"{split}.txt"), "".join(_row(s) + "\n" for s in splits[split]))
        write_text_atomic(str(lists / CLASSES_FILE), "".join(c + "\n" for c in scan.classes))
    multi = scan.multi_label or any(isinstance(s.label, tuple) for s in scan.samples)
    return PreparedVideos(
        str(Path(scan.media_root).resolve()),
        str(lists.resolve()) if write else str(lists),
        list(scan.classes),
        multi,
        {s: len(splits[s]) for s in SPLITS},
    )


def read_split_list(
    lists_dir: str | os.PathLike[str],
    split: str,
    classes: Sequence[str] | str | os.PathLike[str] | None = None,
) -> tuple[list[Sample], list[str], bool]:
    """The samples of ``lists_dir/<split>.txt`` and the label map ``lists_dir/classes.txt`` (or
    ``classes``) that :func:`prepare_video_folder` wrote."""
    folder = Path(lists_dir)
    path = folder / f"{split}.txt"
    if not path.is_file():
        raise VideoFolderError(
            f"no list {str(path)!r}; `action-run train ... --videos DIR` writes the lists, or give the "
            "dataset root without 'lists' to split in memory"
        )
    names = _label_map(classes if classes is not None else folder / CLASSES_FILE)
    samples, names, multi = _resolve_labels(parse_plain_list(path), names, str(path))
    return samples, names, multi


def video_folder(
    split: str,
    *,
    root: str,
    pipeline: Pipeline,
    test_mode: bool,
    lists: str | None = None,
    classes: Sequence[str] | str | None = None,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
    multi_label: bool | None = None,
    bad_media: str = "error",
) -> Any:
    """The ``video_folder`` dataset: ``split`` of one's own videos under ``root`` (a folder of class
    folders, a folder split into train/val/test, or a plain list file).

    ``lists``: a folder where :func:`prepare_video_folder` wrote the split lists and label map (what
    ``action-run train --videos`` does); without it the split is drawn in memory from ``seed`` and
    ``ratios``. ``classes``: a label map (names or a file). Multi-label data (rows with ``a,b``) gives
    multi-hot labels; ``multi_label`` forces either way.
    """
    from action_core.datasets.building import build_from_samples

    if split not in SPLITS:
        raise VideoFolderError(f"video_folder has the splits {', '.join(SPLITS)}; got split {split!r}")
    if not root:
        raise VideoFolderError(
            "video_folder needs data.root: the folder of class folders (or the list file) of your videos"
        )
    media_root = str(Path(root).parent) if Path(root).is_file() else root
    if lists is not None:
        samples, names, multi = read_split_list(lists, split, classes)
        missing = [s for s in samples if not (Path(media_root) / s.video).is_file()]
        if missing:
            shown = "; ".join(f"{s.where}: {s.video}" for s in missing[:5])
            raise VideoFolderError(
                f"{len(missing)} video(s) of the {split} list are not under {media_root!r} ({shown}); the "
                "videos moved since the lists were written: point data.root at them, or write the lists "
                "again (`action-run train ... --videos DIR --overwrite`)"
            )
    else:
        scan = scan_videos(root, classes=classes)
        samples = _complete_split(scan, ratios, seed)[split]
        names, multi = scan.classes, scan.multi_label
    return build_from_samples(
        samples,
        name="video_folder",
        split=split,
        root=media_root,
        media_dir="",
        pipeline=pipeline,
        test_mode=test_mode,
        classes=names,
        multi_label=multi if multi_label is None else bool(multi_label),
        missing="keep",
        bad_media=bad_media,
    )
