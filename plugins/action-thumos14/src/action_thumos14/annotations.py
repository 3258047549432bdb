"""THUMOS14 temporal annotations: one text file per class and subset, rows ``video start_sec end_sec``.

Files are ``<Class>_val.txt`` / ``<Class>_test.txt`` (the official release's ``annotation/`` folders);
``Ambiguous_val.txt`` / ``Ambiguous_test.txt`` mark segments that the evaluation ignores: they are read
with the label ``Ambiguous`` (dropped by :func:`~action_core.evaluation.localization.thumos14_detection_map`
and never used as training targets). With video durations given, a segment running past the end of its
video is clipped to the duration and one starting at or after the end is dropped (both logged); a row
with start > end is an error naming file, line and video.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

from action_core.api import AnnotationError, Segment

__all__ = [
    "AMBIGUOUS",
    "THUMOS14_CLASSES",
    "THUMOS14_UCF101_IDS",
    "load_durations",
    "read_temporal_annotations",
]

log = logging.getLogger(__name__)

AMBIGUOUS = "Ambiguous"

#: the 20 THUMOS14 detection classes and their 1-based UCF101 class ids (``Class Index_Detection.txt``)
THUMOS14_UCF101_IDS: dict[str, int] = {
    "BaseballPitch": 7,
    "BasketballDunk": 9,
    "Billiards": 12,
    "CleanAndJerk": 21,
    "CliffDiving": 22,
    "CricketBowling": 23,
    "CricketShot": 24,
    "Diving": 26,
    "FrisbeeCatch": 31,
    "GolfSwing": 33,
    "HammerThrow": 36,
    "HighJump": 40,
    "JavelinThrow": 45,
    "LongJump": 51,
    "PoleVault": 68,
    "Shotput": 79,
    "SoccerPenalty": 85,
    "TennisSwing": 92,
    "ThrowDiscus": 93,
    "VolleyballSpiking": 97,
}
#: class names in UCF101 id order; a class's index here is its 0-based THUMOS14 label
THUMOS14_CLASSES: list[str] = sorted(THUMOS14_UCF101_IDS, key=THUMOS14_UCF101_IDS.__getitem__)

_SUBSETS = {"val": "val", "validation": "val", "test": "test"}
_FILE = re.compile(r"^(?P<cls>[A-Za-z]+)_(?P<subset>val|test)\.txt$")


def load_durations(source: str | os.PathLike[str] | Mapping[str, float]) -> dict[str, float]:
    """Video durations in seconds from a mapping, a JSON object ``{video: seconds}`` (or
    ``{video: {"duration": seconds}}``), or a CSV with ``video`` and ``duration`` columns."""
    if isinstance(source, Mapping):
        items = source.items()
        where = "<durations mapping>"
    else:
        where = os.fspath(source)
        p = Path(source)
        if not p.is_file():
            raise AnnotationError("durations file not found; check the path", path=where)
        if p.suffix == ".json":
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as e:
                raise AnnotationError(f"not valid JSON ({e.msg})", path=where) from e
            items = data.items()
        else:
            with open(p, encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
            if rows and not {"video", "duration"} <= set(rows[0]):
                raise AnnotationError("CSV needs the columns video,duration", path=where)
            items = [(r["video"], r["duration"]) for r in rows]
    out = {}
    for video, value in items:
        if isinstance(value, Mapping):
            value = value.get("duration", value.get("duration_second"))
        try:
            seconds = float(value)
        except (TypeError, ValueError) as e:
            raise AnnotationError(
                f"video {video!r}: field 'duration' must be a number, got {value!r}", path=where
            ) from e
        if not math.isfinite(seconds) or seconds <= 0:
            raise AnnotationError(f"video {video!r}: field 'duration' must be > 0, got {value!r}", path=where)
        out[str(video)] = seconds
    return out


def read_temporal_annotations(
    folder: str | os.PathLike[str],
    subset: str = "val",
    *,
    durations: Mapping[str, float] | None = None,
) -> dict[str, list[Segment]]:
    """``{video: [Segment(start, end, class), ...]}`` from the per-class files of ``subset`` (val or test)
    in ``folder``, segments sorted by start; Ambiguous segments carry the label ``Ambiguous``.

    Files of unknown classes are an error (a typo would silently lose a class); a missing class file is
    logged. Segments past the video end are clipped when ``durations`` is given (see module docs).
    """
    short = _SUBSETS.get(subset)
    if short is None:
        raise ValueError(f"subset must be val or test, got {subset!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise AnnotationError("annotation folder not found", path=str(folder))
    out: dict[str, list[Segment]] = {}
    seen = set()
    for path in sorted(folder.glob(f"*_{short}.txt")):
        m = _FILE.match(path.name)
        cls = m.group("cls") if m else path.name
        if cls != AMBIGUOUS and cls not in THUMOS14_UCF101_IDS:
            raise AnnotationError(
                f"unknown class {cls!r}; THUMOS14 has {', '.join(THUMOS14_CLASSES)} and {AMBIGUOUS}",
                path=str(path),
            )
        seen.add(cls)
        for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3:
                raise AnnotationError(
                    f"expected 'video_name start_sec end_sec', got {line!r}", path=str(path), line=number
                )
            video = parts[0]
            try:
                start, end = float(parts[1]), float(parts[2])
            except ValueError as e:
                raise AnnotationError(
                    f"video {video!r}: start/end must be numbers, got {line!r}", path=str(path), line=number
                ) from e
            if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
                raise AnnotationError(
                    f"video {video!r}: field 'segment' must be finite and >= 0, got [{start}, {end}]",
                    path=str(path),
                    line=number,
                )
            if start > end:
                raise AnnotationError(
                    f"video {video!r}: field 'segment' has start {start} > end {end}",
                    path=str(path),
                    line=number,
                )
            if durations is not None:
                if video not in durations:
                    raise AnnotationError(
                        f"video {video!r}: no duration given; add it to the durations file",
                        path=str(path),
                        line=number,
                    )
                limit = durations[video]
                if start >= limit:
                    log.warning(
                        "%s:%d: video %s segment [%s, %s] starts after the video end %s; dropped",
                        path,
                        number,
                        video,
                        start,
                        end,
                        limit,
                    )
                    continue
                if end > limit:
                    log.info(
                        "%s:%d: video %s segment end %s clipped to the video end %s",
                        path,
                        number,
                        video,
                        end,
                        limit,
                    )
                    end = limit
            out.setdefault(video, []).append(Segment(start, end, cls))
    missing = [c for c in THUMOS14_CLASSES if c not in seen]
    if missing and seen:
        log.warning("%s: no %s annotation file for classes %s", folder, short, ", ".join(missing))
    if not seen:
        raise AnnotationError(f"no <Class>_{short}.txt files found", path=str(folder))
    return {v: sorted(segs, key=lambda s: (s.start, s.end)) for v, segs in sorted(out.items())}
