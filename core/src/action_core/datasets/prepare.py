"""``action-run <dataset> prepare``: from a local copy of a dataset, as downloaded from its official source,
to the lists training reads.

A plugin parses its official annotation files into :class:`~action_core.datasets.Sample` lists, one per
split, and hands them to :func:`run_prepare`, which

1. matches them against the files on disk (counts of missing and extra files),
2. opens every matched clip (``--no-probe`` skips this) and counts the unreadable ones,
3. optionally re-encodes the clips (``--reencode``: H.264, short GOP, smaller size) and/or extracts
   rawframes (``--rawframes``: JPEG, shorter side resized), in parallel processes, resumably,
4. writes MMAction2 lists ``<root>/lists/<name>_<split>_videos.txt`` (and ``..._rawframes.txt``), the class
   names ``<root>/lists/<name>_classes.txt`` and a JSON report, each file atomically.

Missing or unreadable clips are reported (counts, examples, the full lists in the JSON report) and left out
of the lists; they are not fatal unless ``--strict`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import attrs

from action_core.datasets.building import LISTS_DIR, classes_path, count_frames, list_path
from action_core.datasets.matching import VIDEO_EXTENSIONS, MatchBy, match_samples
from action_core.datasets.samples import Sample
from action_core.errors import ActionError


@attrs.frozen
class SplitSpec:
    """One split to prepare: its samples, their media folder relative to the root, and how to match them."""

    samples: list[Sample]
    media_dir: str
    match: MatchBy = "path"
    frame_template: str = "img_{:05d}.jpg"


@attrs.define
class SplitReport:
    """What preparing one split found and wrote."""

    split: str
    annotated: int = 0
    found: int = 0
    missing: list[str] = attrs.field(factory=list)
    unreadable: dict[str, str] = attrs.field(factory=dict)
    written: int = 0
    lists: list[str] = attrs.field(factory=list)
    rawframes_done: int = 0
    rawframes_skipped: int = 0
    reencoded: int = 0
    reencode_skipped: int = 0
    failed: dict[str, str] = attrs.field(factory=dict)

    def summary(self) -> str:
        """One human-readable paragraph."""
        line = (
            f"{self.split}: {self.annotated} annotated, {self.found} found, {len(self.missing)} missing, "
            f"{len(self.unreadable)} unreadable -> {self.written} in the list"
        )
        if self.rawframes_done or self.rawframes_skipped:
            line += f"; rawframes: {self.rawframes_done} extracted, {self.rawframes_skipped} already done"
        if self.reencoded or self.reencode_skipped:
            line += f"; re-encoded: {self.reencoded}, {self.reencode_skipped} already done"
        if self.failed:
            line += f"; {len(self.failed)} failed"
        out = [line]
        for title, items in (("missing", self.missing), ("unreadable", list(self.unreadable))):
            if items:
                shown = ", ".join(items[:3]) + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")
                out.append(f"  {title}: {shown}")
        for path, why in list(self.failed.items())[:3]:
            out.append(f"  failed: {path}: {why}")
        return "\n".join(out)


@attrs.define
class PrepareReport:
    """All splits of one ``prepare`` run; ``path`` is where the JSON report was written."""

    dataset: str
    root: str
    splits: list[SplitReport] = attrs.field(factory=list)
    extra: list[str] = attrs.field(factory=list)
    classes: int = 0
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return attrs.asdict(self)

    def summary(self) -> str:
        """Human-readable summary of every split."""
        head = f"prepared {self.dataset} under {self.root} ({self.classes} classes)"
        extra = f"{len(self.extra)} media file(s) named by no annotation"
        if self.extra:
            extra += (
                ": "
                + ", ".join(self.extra[:3])
                + (f" (+{len(self.extra) - 3} more)" if len(self.extra) > 3 else "")
            )
        return "\n".join([head, *(s.summary() for s in self.splits), extra, f"report: {self.path}"])


def add_prepare_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every ``prepare`` command shares."""
    parser.add_argument("--root", required=True, help="the dataset folder, laid out as officially downloaded")
    parser.add_argument(
        "--extract",
        action="append",
        default=[],
        metavar="ARCHIVE",
        help="unpack this official archive into --root first (zip, tar, rar with rarfile); repeatable",
    )
    parser.add_argument(
        "--no-probe", action="store_true", help="do not open each clip to find unreadable ones"
    )
    parser.add_argument(
        "--rawframes", action="store_true", help="also extract JPEG frames (img_00001.jpg ...)"
    )
    parser.add_argument(
        "--short-side", type=int, default=None, help="resize frames / re-encodes to this shorter side"
    )
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality of extracted frames")
    parser.add_argument("--reencode", action="store_true", help="re-encode clips to H.264 with a short GOP")
    parser.add_argument("--gop", type=int, default=16, help="keyframe interval of re-encoded clips")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1), help="processes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--strict", action="store_true", help="exit with 1 when any clip is missing or unreadable"
    )


def extract_archives(args: argparse.Namespace) -> None:
    """Unpack the ``--extract`` archives into ``--root`` (safely; see :mod:`action_core.datasets.archive`)."""
    from action_core.datasets.archive import safe_extract

    for archive in args.extract:
        names = safe_extract(archive, args.root)
        print(f"unpacked {len(names)} members of {archive} into {args.root}", file=sys.stderr)


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never a half-written file)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.partial-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _label_text(label: int | tuple[int, ...] | None) -> str:
    if label is None:
        return ""
    if isinstance(label, tuple):
        return " " + " ".join(str(v) for v in label)
    return f" {label}"


def _check_path(path: str, sample: Sample) -> str:
    if any(c.isspace() for c in path):
        raise ActionError(
            f"{sample.where or sample.video}: media path {path!r} contains whitespace, which MMAction2 lists "
            "cannot hold; rename the file"
        )
    return path


Pairs = list[tuple[Sample, str]]  # samples with their media paths relative to the root


def _probe(
    pairs: Pairs,
    spec: SplitSpec,
    root: str,
    cache: dict[str, Any],
    rep: SplitReport,
    *,
    args: argparse.Namespace,
    desc: str,
) -> Pairs:
    """Open every clip once per run (splits sharing clips reuse the result); drop and report unreadable ones."""
    from action_core.datasets.media import parallel_map, probe_frame_dir, probe_video

    probe = partial(probe_frame_dir, template=spec.frame_template) if spec.match == "dir" else probe_video
    todo = sorted({os.path.join(root, rel) for _, rel in pairs} - set(cache))
    results = parallel_map(probe, todo, workers=args.workers, desc=desc, progress=not args.no_progress)
    cache.update(zip(todo, results, strict=True))
    probes = [cache[os.path.join(root, rel)] for _, rel in pairs]
    rep.unreadable = {os.path.relpath(p.path, root): p.message for p in probes if not p.ok}
    return [pair for pair, p in zip(pairs, probes, strict=True) if p.ok]


def _reencode(pairs: Pairs, root: str, rep: SplitReport, *, args: argparse.Namespace, desc: str) -> Pairs:
    """Re-encode the clips (done ones are skipped); the pairs then point at the re-encoded copies."""
    from action_core.datasets.media import parallel_map
    from action_core.datasets.reencode import EncodeJob, reencode_video

    size = f"_s{args.short_side}" if args.short_side else ""
    folder = f"videos_gop{args.gop}{size}"
    jobs = [
        EncodeJob(
            os.path.join(root, rel),
            os.path.join(root, folder, os.path.splitext(rel)[0] + ".mp4"),
            short_side=args.short_side,
            gop=args.gop,
        )
        for _, rel in pairs
    ]
    results = parallel_map(
        reencode_video, jobs, workers=args.workers, desc=desc, progress=not args.no_progress
    )
    kept = []
    for (sample, rel), res in zip(pairs, results, strict=True):
        if res.error:
            rep.failed[rel] = res.error
            continue
        rep.reencoded += not res.skipped
        rep.reencode_skipped += res.skipped
        kept.append((sample, os.path.relpath(res.dst, root).replace(os.sep, "/")))
    return kept


def _extract(pairs: Pairs, root: str, rep: SplitReport, *, args: argparse.Namespace, desc: str) -> list[str]:
    """Extract rawframes to ``root/rawframes/<clip path without extension>``; returns the rawframe list rows."""
    from action_core.datasets.media import parallel_map
    from action_core.datasets.rawframes import FrameJob, extract_frames

    jobs = [
        FrameJob(
            os.path.join(root, rel),
            os.path.join(root, "rawframes", os.path.splitext(rel)[0]),
            short_side=args.short_side,
            quality=args.quality,
        )
        for _, rel in pairs
    ]
    results = parallel_map(
        extract_frames, jobs, workers=args.workers, desc=desc, progress=not args.no_progress
    )
    rows = []
    for (sample, _), res in zip(pairs, results, strict=True):
        frame_dir = os.path.relpath(res.out_dir, root).replace(os.sep, "/")
        if res.error:
            rep.failed[frame_dir] = res.error
            continue
        rep.rawframes_done += not res.skipped
        rep.rawframes_skipped += res.skipped
        rows.append(f"{_check_path(frame_dir, sample)} {res.num_frames}{_label_text(sample.label)}\n")
    return rows


def run_prepare(
    name: str,
    splits: Mapping[str, SplitSpec],
    classes: Sequence[str],
    args: argparse.Namespace,
    *,
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> tuple[PrepareReport, int]:
    """Prepare every split (see the module docstring); returns the report and the exit code."""
    root = os.fspath(args.root)
    report = PrepareReport(dataset=name, root=root, classes=len(classes))
    write_text_atomic(classes_path(root, name), "".join(f"{c}\n" for c in classes))
    extra_by_dir: dict[str, set[str]] = {}
    probed: dict[str, Any] = {}
    for split, spec in splits.items():
        rep = SplitReport(split=split, annotated=len(spec.samples))
        report.splits.append(rep)
        matched = match_samples(spec.samples, root, spec.media_dir, by=spec.match, extensions=extensions)
        rep.found = len(matched.found)
        rep.missing = [s.video for s in matched.missing]
        # A file is extra when no split using its folder names it (UCF101's train and test share a folder).
        seen = extra_by_dir.get(spec.media_dir)
        extra_by_dir[spec.media_dir] = set(matched.extra) if seen is None else seen & set(matched.extra)
        pairs = matched.found
        if not args.no_probe and pairs:
            pairs = _probe(pairs, spec, root, probed, rep, args=args, desc=f"{name} {split}: checking")
        if spec.match == "dir":  # frame folders: the list is a rawframe list
            rows = [
                f"{_check_path(rel, s)} {count_frames(os.path.join(root, rel), spec.frame_template)}"
                f"{_label_text(s.label)}\n"
                for s, rel in pairs
            ]
            rep.written = len(rows)
            rep.lists.append(list_path(root, name, split, "rawframes"))
            write_text_atomic(rep.lists[-1], "".join(rows))
            continue
        if args.reencode:
            pairs = _reencode(pairs, root, rep, args=args, desc=f"{name} {split}: re-encoding")
        rows = [f"{_check_path(rel, s)}{_label_text(s.label)}\n" for s, rel in pairs]
        rep.written = len(rows)
        rep.lists.append(list_path(root, name, split, "video"))
        write_text_atomic(rep.lists[-1], "".join(rows))
        if args.rawframes:
            frame_rows = _extract(pairs, root, rep, args=args, desc=f"{name} {split}: rawframes")
            rep.lists.append(list_path(root, name, split, "rawframes"))
            write_text_atomic(rep.lists[-1], "".join(frame_rows))
    report.extra = sorted(set().union(*extra_by_dir.values())) if extra_by_dir else []
    report.path = os.path.join(root, LISTS_DIR, f"{name}_prepare_report.json")
    write_text_atomic(report.path, json.dumps(report.to_dict(), indent=1) + "\n")
    print(report.summary())
    bad = any(s.missing or s.unreadable or s.failed for s in report.splits)
    nothing = all(s.written == 0 for s in report.splits)
    return report, 1 if nothing or (args.strict and bad) else 0
