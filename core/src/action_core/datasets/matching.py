"""Match annotated samples against the files on disk: which are found, which are missing, which are extra."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

from action_core.datasets.samples import Sample

VIDEO_EXTENSIONS = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v", ".flv", ".mpg", ".mpeg", ".3gp")

MatchBy = Literal["path", "name", "dir"]


@attrs.frozen
class MatchResult:
    """``found`` pairs each sample with its media path relative to the dataset root; ``missing`` are samples
    without media; ``extra`` are media files (relative to the root) that no annotation names."""

    found: list[tuple[Sample, str]]
    missing: list[Sample]
    extra: list[str]


def _walk_files(folder: str, extensions: Sequence[str]) -> list[str]:
    exts = tuple(e.lower() for e in extensions)
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if f.lower().endswith(exts) and not f.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, f), folder).replace(os.sep, "/"))
    return out


def _stem(path: str) -> str:
    return os.path.splitext(path)[0]


def match_samples(
    samples: Iterable[Sample],
    root: str | os.PathLike[str],
    media_dir: str,
    *,
    by: MatchBy = "path",
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> MatchResult:
    """Find each sample's media under ``root/media_dir``.

    ``by="path"``: the annotated relative path (``Class/clip.avi``); a file with the same stem and another
    video extension also matches (copies re-encoded to mp4). ``by="name"``: the clip's file name anywhere
    below the folder, any video extension (Kinetics copies are flat or per class; SSv2 is flat).
    ``by="dir"``: a frame folder named like the sample directly inside the folder (SSv1).
    """
    root = os.fspath(root)
    folder = os.path.join(root, media_dir) if media_dir else root
    samples = list(samples)
    prefix = media_dir.strip("/") + "/" if media_dir else ""
    found: list[tuple[Sample, str]] = []
    missing: list[Sample] = []
    if not os.path.isdir(folder):
        return MatchResult(found=[], missing=samples, extra=[])
    if by == "dir":
        present = sorted(
            d for d in os.listdir(folder) if not d.startswith(".") and os.path.isdir(os.path.join(folder, d))
        )
        lookup = {d: d for d in present}
        keys = {s: s.video.strip("/") for s in samples}
    else:
        present = _walk_files(folder, extensions)
        if by == "path":
            lookup = {}
            for p in present:
                lookup.setdefault(_stem(p), p)
            for p in present:  # the exact annotated name wins over a same-stem sibling
                lookup[p] = p
            keys = {s: s.video if s.video in lookup else _stem(s.video) for s in samples}
        elif by == "name":
            lookup = {}
            for p in present:
                lookup.setdefault(os.path.basename(_stem(p)), p)
            keys = {s: s.name for s in samples}
        else:
            raise ValueError(f"by must be 'path', 'name' or 'dir', got {by!r}")
    used: set[str] = set()
    for s in samples:
        hit = lookup.get(keys[s])
        if hit is None:
            missing.append(s)
        else:
            used.add(hit)
            found.append((s, prefix + hit))
    extra = [prefix + p for p in present if p not in used]
    return MatchResult(found=found, missing=missing, extra=extra)
