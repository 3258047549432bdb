"""``action-run doctor DATASET_OR_LIST``: check a dataset or an annotation list without preparing anything.

It reads lists with the parsers training uses and clips with the readers training uses, so what it passes,
training accepts. It reports rows training would refuse (a row without a label in a list to train on, a
row with too many fields, a label that is not a number: ``bad_row``, naming file and line), a list without
rows (``empty_list``) and, for every clip, missing, empty (0-byte) and unreadable (truncated, corrupt:
every frame is decoded, unless ``--quick``) files, list frame counts (rawframe lists) that disagree with the
folder, clips shorter than ``--min-frames`` and labels outside ``[0, num_classes)``: these are faults, and
the exit code is 1 when there is any. It also notices,
without failing, what does not stop training but is worth knowing: container headers whose frame count
disagrees with the frames present (AVI headers often do; the reader counts the real frames) and clips the
reader can only read by decoding from the start (exact but slower; ``VideoReader.fallback_reason``). It
writes a JSON report and prints a summary.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any

import attrs

from action_core.datasets.building import RAWFRAME_TEMPLATE, read_classes_file
from action_core.datasets.media import parallel_map, probe_frame_dir, probe_video
from action_core.errors import ActionError

FAULT_KINDS = (
    "empty_list",
    "bad_row",
    "missing",
    "empty",
    "unreadable",
    "list_frame_count",
    "too_short",
    "label_out_of_range",
)
NOTICE_KINDS = ("header_frame_count", "fallback_read")


@attrs.frozen
class Item:
    """One clip to check: its media path, labels, the frame count its list states, where it is listed."""

    path: str
    labels: tuple[int, ...] = ()
    list_frames: int | None = None
    where: str = ""
    frames: bool = False  # a frame folder rather than a video file


@attrs.frozen
class Fault:
    """One finding: ``kind`` is one of :data:`FAULT_KINDS` or :data:`NOTICE_KINDS`."""

    path: str
    kind: str
    detail: str
    where: str = ""


@attrs.define
class DoctorReport:
    """Everything ``doctor`` found."""

    target: str
    checked: int = 0
    num_classes: int | None = None
    faults: list[Fault] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)

    notices: list[Fault] = attrs.field(factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Number of faults and notices of each kind."""
        return dict(Counter(f.kind for f in [*self.faults, *self.notices]))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        data = attrs.asdict(self)
        data["counts"] = self.counts
        return data

    def summary(self) -> str:
        """Human-readable summary: counts per kind, then up to 10 examples of each."""
        lines = [f"doctor: {self.target}: {self.checked} clips checked, {len(self.faults)} problem(s)"]
        lines += [f"  note: {n}" for n in self.notes]
        for kind in FAULT_KINDS:
            found = [f for f in self.faults if f.kind == kind]
            if not found:
                continue
            lines.append(f"  {kind}: {len(found)}")
            for f in found[:10]:
                # A row or list finding is about the list, which its "where" already names.
                what = "" if kind in ("bad_row", "empty_list") else f"{f.path}: "
                lines.append(f"    {f.where + ': ' if f.where else ''}{what}{f.detail}")
        if not self.faults:
            lines.append("  no problems found")
        titles = {
            "header_frame_count": "header frame count differs (harmless: the real frames are counted)",
            "fallback_read": "read by decoding from the start (exact, slower; re-encoding speeds training up)",
        }
        for kind in NOTICE_KINDS:
            found = [f for f in self.notices if f.kind == kind]
            if found:
                lines.append(f"  notice, {titles[kind]}: {len(found)}")
                lines += [f"    {f.where + ': ' if f.where else ''}{f.path}: {f.detail}" for f in found[:10]]
        return "\n".join(lines)


def check_item(
    item: Item,
    *,
    min_frames: int,
    num_classes: int | None,
    template: str,
    start_index: int,
    every_frame: bool = True,
) -> list[Fault]:
    """All faults and notices of one clip."""
    faults = []
    bad = [v for v in item.labels if num_classes is not None and not 0 <= v < num_classes]
    if bad:
        faults.append(
            Fault(
                item.path, "label_out_of_range", f"label {bad[0]} is outside [0, {num_classes})", item.where
            )
        )
    if item.frames:
        probe = probe_frame_dir(item.path, template, start_index, every_frame=every_frame)
    else:
        probe = probe_video(item.path, every_frame=every_frame)
    if probe.cause is not None:
        kind = probe.cause if probe.cause in ("missing", "empty") else "unreadable"
        faults.append(Fault(item.path, kind, probe.message, item.where))
        return faults
    n = int(probe.num_frames or 0)
    if probe.fallback:
        faults.append(Fault(item.path, "fallback_read", probe.fallback, item.where))
    if probe.header_frames and probe.header_frames != n:
        faults.append(
            Fault(
                item.path,
                "header_frame_count",
                f"the container header says {probe.header_frames} frames but {n} are present",
                item.where,
            )
        )
    if item.list_frames is not None and item.list_frames != n:
        faults.append(
            Fault(
                item.path,
                "list_frame_count",
                f"the list says {item.list_frames} frames but {n} are present",
                item.where,
            )
        )
    if n < min_frames:
        faults.append(
            Fault(item.path, "too_short", f"{n} frames, fewer than --min-frames {min_frames}", item.where)
        )
    return faults


def _labels(label: int | Sequence[int] | None) -> tuple[int, ...]:
    if label is None:
        return ()
    return (int(label),) if isinstance(label, int) else tuple(int(v) for v in label)


def _looks_like_rawframes(path: str, base: str) -> bool:
    # Peek at the first rows: "<folder> <number> ..." whose folder exists is a rawframe list.
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        rows = [line.split() for line in itertools.islice((li for li in f if li.strip()), 20)]
    return any(
        len(fields) >= 2 and fields[1].isdigit() and os.path.isdir(os.path.join(base, fields[0]))
        for fields in rows
    )


def items_from_list(
    path: str, *, prefix: str | None, fmt: str, multi_label: bool, labelled: bool = True
) -> tuple[list[Item], str, list[Fault]]:
    """Read an MMAction2 video or rawframe list (``fmt``: ``auto``, ``video`` or ``rawframes``) with the parser
    training uses; the rows it would refuse come back as faults (``bad_row``, ``empty_list``)."""
    from action_core.data import AnnotationError, parse_rawframe_list, parse_video_list

    base = prefix if prefix is not None else os.path.dirname(os.path.abspath(path))
    if fmt == "auto":
        fmt = "rawframes" if _looks_like_rawframes(path, base) else "video"
    name = os.path.abspath(path)
    faults: list[Fault] = []

    def refused(error: AnnotationError) -> None:
        if error.line is None:
            faults.append(Fault(path, "empty_list", str(error).removeprefix(f"{error.path}: "), name))
            return
        detail = str(error).removeprefix(f"{error.path}:{error.line}: ")
        faults.append(Fault(path, "bad_row", detail, f"{name}:{error.line}"))

    options = dict(prefix=base, multi_label=multi_label, labelled=labelled, on_error=refused)
    items: list[Item]
    if fmt == "rawframes":
        items = [
            Item(r.frame_dir, _labels(r.label), r.num_frames, _where(r.where, path, name), frames=True)
            for r in parse_rawframe_list(os.path.abspath(path), **options)  # type: ignore[arg-type]
        ]
    else:
        items = [
            Item(r.path, _labels(r.label), r.num_frames, _where(r.where, path, name))
            for r in parse_video_list(os.path.abspath(path), **options)  # type: ignore[arg-type]
        ]
    return items, fmt, faults


def _where(where: str | None, path: str, name: str) -> str:
    return where or name


def items_from_dataset(
    name: str, *, root: str, split: str, args: dict[str, Any], test_mode: bool = True
) -> tuple[list[Item], Any]:
    """The records of a registered dataset, built as training builds it (with an empty pipeline, missing
    clips kept); ``test_mode=False`` reads a split as a training split (every row labelled)."""
    import action_core

    builder = action_core.get_registry().get("dataset", name).load()
    params = inspect.signature(builder).parameters
    if "missing" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        args = {"missing": "keep", **args}
    dataset = builder(split=split, root=root, pipeline=[], test_mode=test_mode, **args)
    return items_of_dataset(dataset), dataset


def items_of_dataset(dataset: Any) -> list[Item]:
    """The clips of a built record dataset (video files or frame folders) as doctor items."""
    items = []
    for rec in getattr(dataset, "records", []):
        where = getattr(rec, "where", None) or ""
        if hasattr(rec, "frame_dir"):
            items.append(Item(rec.frame_dir, _labels(rec.label), rec.num_frames, where, frames=True))
        else:
            items.append(Item(rec.path, _labels(rec.label), rec.num_frames, where))
    return items


def check_items(
    items: Sequence[Item],
    *,
    target: str,
    num_classes: int | None,
    min_frames: int = 1,
    every_frame: bool = True,
    workers: int = 1,
    progress: bool = True,
) -> DoctorReport:
    """Check every clip of ``items`` (:func:`check_item`, in ``workers`` processes) as ``doctor`` does:
    what ``action-run train --videos`` runs before any training."""
    report = DoctorReport(target=target, checked=len(items), num_classes=num_classes)
    check = partial(
        check_item,
        min_frames=min_frames,
        num_classes=num_classes,
        template=RAWFRAME_TEMPLATE,
        start_index=1,
        every_frame=every_frame,
    )
    for faults in parallel_map(
        check, list(items), workers=workers, desc="doctor", progress=progress and len(items) > 50
    ):
        report.faults.extend(f for f in faults if f.kind in FAULT_KINDS)
        report.notices.extend(f for f in faults if f.kind in NOTICE_KINDS)
    return report


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="action-run doctor",
        description="Check a registered dataset or an MMAction2 video/rawframe list without preparing it.",
    )
    parser.add_argument("target", help="an annotation list file, or the name of a registered dataset")
    parser.add_argument("--root", default="", help="dataset root (registered datasets)")
    parser.add_argument(
        "--split",
        default="train",
        help="split of a registered dataset; 'train' is read as training reads it (every row labelled)",
    )
    parser.add_argument(
        "--arg", action="append", default=[], metavar="KEY=VALUE", help="dataset builder argument"
    )
    parser.add_argument(
        "--prefix", default=None, help="folder the list's paths are relative to (default: its folder)"
    )
    parser.add_argument(
        "--format",
        choices=("auto", "video", "rawframes"),
        default="auto",
        help="list format (default: rawframes when the first rows name existing folders and frame counts)",
    )
    parser.add_argument(
        "--multi-label",
        action="store_true",
        help="rows carry several labels (as the dataset's multi_label=True); without it a row with more than "
        "one label is refused, as single-label training refuses it",
    )
    parser.add_argument(
        "--unlabelled",
        action="store_true",
        help="the list (or split) is an unlabelled test list: rows with only a path are fine (by default "
        "every row of a list, and of a 'train' split, needs a label, as training requires)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="decode only the first, middle and last frame of each clip (faster; misses damage between them)",
    )
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--num-classes", type=int, default=None, help="labels must be below this")
    classes.add_argument("--classes", default=None, help="class list file (one name per line)")
    parser.add_argument("--min-frames", type=int, default=1, help="clips with fewer frames are too short")
    parser.add_argument(
        "--frame-template", default=RAWFRAME_TEMPLATE, help="frame file names of frame folders"
    )
    parser.add_argument("--start-index", type=int, default=1, help="number of the first frame file")
    parser.add_argument(
        "--report", default=None, help="where to write the JSON report (default: beside the list)"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def _names_a_file(target: str) -> bool:
    """True when ``target`` is a list file; a path that does not exist is an error (not a dataset name)."""
    if os.path.isfile(target):
        return True
    if os.path.exists(target) or os.sep in target or os.path.splitext(target)[1] in (".txt", ".csv", ".list"):
        from action_core.data import AnnotationError

        what = "is a folder, not an annotation list" if os.path.isdir(target) else "not found"
        raise AnnotationError(
            f"{what}; give an annotation list file or the name of a registered dataset "
            "(`action-run list datasets`)",
            path=target,
        )
    return False


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run_doctor(argv: list[str]) -> DoctorReport:
    """Run the checks described by command-line ``argv`` and return the report (also written to disk)."""
    args = _parse_args(argv)
    notes = []
    num_classes = args.num_classes
    if args.classes:
        num_classes = len(read_classes_file(args.classes))
    template, start_index = args.frame_template, args.start_index
    list_faults: list[Fault] = []
    if _names_a_file(args.target):
        items, fmt, list_faults = items_from_list(
            args.target,
            prefix=args.prefix,
            fmt=args.format,
            multi_label=args.multi_label,
            labelled=not args.unlabelled,
        )
        default_report = args.target + ".doctor.json"
        notes.append(f"read as an MMAction2 {fmt} list")
    else:
        extra = {}
        for pair in args.arg:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ActionError(f"--arg {pair!r} must look like KEY=VALUE")
            extra[key] = _value(value)
        items, dataset = items_from_dataset(
            args.target,
            root=args.root,
            split=args.split,
            args=extra,
            test_mode=args.unlabelled or args.split != "train",
        )
        if num_classes is None:
            num_classes = len(getattr(dataset, "classes", []) or []) or getattr(dataset, "num_classes", None)
        template = getattr(dataset, "filename_tmpl", template)
        start_index = (
            getattr(dataset, "start_index", start_index) if items and items[0].frames else start_index
        )
        default_report = f"doctor_{args.target}_{args.split}.json"
    if num_classes is None:
        notes.append("label range not checked: give --num-classes or --classes")
    report = DoctorReport(
        target=args.target, checked=len(items), num_classes=num_classes, notes=notes, faults=list_faults
    )
    check = partial(
        check_item,
        min_frames=args.min_frames,
        num_classes=num_classes,
        template=template,
        start_index=start_index,
        every_frame=not args.quick,
    )
    for faults in parallel_map(
        check, items, workers=args.workers, desc="doctor", progress=not args.no_progress and len(items) > 50
    ):
        report.faults.extend(f for f in faults if f.kind in FAULT_KINDS)
        report.notices.extend(f for f in faults if f.kind in NOTICE_KINDS)
    path = args.report or default_report
    from action_core.datasets.prepare import write_text_atomic

    write_text_atomic(path, json.dumps(report.to_dict(), indent=1) + "\n")
    report.notes.append(f"report written to {path}")
    return report


def main(argv: list[str]) -> int:
    """``action-run doctor``: print the summary; exit code 1 when problems were found."""
    report = run_doctor(list(argv))
    print(report.summary())
    sys.stdout.flush()
    return 1 if report.faults else 0
