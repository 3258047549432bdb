"""Prediction over many video files into a JSON-lines file that an interrupted run resumes.

Inputs are video files, folders (searched recursively for video files) and list files (one video per
line; MMAction2 video lists ``path label`` work too). Each video gets an id: its path as given (a folder's
videos: the folder as given joined with the path inside it; a list's videos: the path as written in the
list). Every result is one line of the output, written and flushed as soon as it is known::

    {"id": "clips/a.mp4", "path": "clips/a.mp4", "top_k": [["label", 0.93], ...]}
    {"id": "clips/b.mp4", "path": "clips/b.mp4", "error": "cannot open ...", "cause": "undecodable"}

A run started again with the same output skips the ids that already have a result line (lines with an
``error`` are tried again; the last line of an id is the one that counts), and a line cut short by an
interruption is removed first. Decoding runs in DataLoader workers and the clips of several videos share
each forward pass (:meth:`~action_core.engine.inferencer.Inferencer.predict_files`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from action_core.errors import ConfigError

if TYPE_CHECKING:
    from action_core.engine.inferencer import Inferencer

__all__ = [
    "LIST_SUFFIXES",
    "VIDEO_SUFFIXES",
    "BatchSummary",
    "collect_videos",
    "predict_batch",
    "read_finished",
]

VIDEO_SUFFIXES = frozenset(
    [
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".mkv",
        ".webm",
        ".mpg",
        ".mpeg",
        ".flv",
        ".wmv",
        ".ts",
        ".mts",
        ".m2ts",
        ".3gp",
        ".ogv",
        ".gif",
    ]
)
LIST_SUFFIXES = frozenset([".txt", ".list", ".lst", ".csv"])


@attrs.frozen
class BatchSummary:
    """What a batch run did: ``predicted`` videos, ``skipped`` ``{id: reason}``, ``already_done`` (ids
    found in the output and not run again), ``seconds`` of wall time."""

    predicted: int
    skipped: dict[str, str]
    already_done: int
    seconds: float

    @property
    def videos_per_second(self) -> float:
        """Videos (predicted or skipped) per second of this run."""
        done = self.predicted + len(self.skipped)
        return done / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        text = f"predicted {self.predicted} video(s) in {self.seconds:.1f} s ({self.videos_per_second:.2f}/s)"
        if self.already_done:
            text += f"; {self.already_done} already in the output"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} unreadable:"
            text += "".join(f"\n  {name}: {reason}" for name, reason in sorted(self.skipped.items()))
        return text


def _list_entries(path: Path, root: Path | None) -> list[tuple[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the video list {str(path)!r}: {e}") from e
    base = root if root is not None else path.parent
    entries = []
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = line
        if not (base / line).exists():
            head, _, tail = line.rpartition(" ")
            if head and tail.lstrip("-").isdigit():  # MMAction2's "path label"
                name = head.strip()
        if not name:
            raise ConfigError(f"{path}:{number}: no video path in {raw!r}")
        entries.append((name, str(base / name)))
    return entries


def collect_videos(
    inputs: Sequence[str | os.PathLike[str]], *, root: str | None = None
) -> list[tuple[str, str]]:
    """``(id, path)`` of every video named by ``inputs`` (files, folders searched recursively, list files
    whose relative paths start at ``root`` or else at the list's folder), in order, each id once."""
    found: list[tuple[str, str]] = []
    for raw in inputs:
        text = os.fspath(raw)
        path = Path(text)
        if path.is_dir():
            videos = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
            found += [(str(Path(text) / p.relative_to(path)), str(p)) for p in videos]
        elif path.suffix.lower() in LIST_SUFFIXES:
            if not path.is_file():
                raise ConfigError(f"video list {text!r} does not exist; check the path")
            found += _list_entries(path, Path(root) if root else None)
        else:
            found.append((text, text))  # a video; a missing or bad one becomes a counted skip
    seen: set[str] = set()
    unique = []
    for entry in found:
        if entry[0] not in seen:
            seen.add(entry[0])
            unique.append(entry)
    return unique


def read_finished(out: str | os.PathLike[str]) -> set[str]:
    """Ids with a result line in ``out`` (none when it does not exist). A last line cut short by an
    interrupted run is removed from the file; a malformed line elsewhere is an error naming its line."""
    path = Path(out)
    if not path.exists():
        return set()
    data = path.read_bytes()
    complete = data.rfind(b"\n") + 1
    if complete < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(complete)
    finished: dict[str, bool] = {}
    for number, line in enumerate(data[:complete].decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            name = str(row["id"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ConfigError(
                f"{out}:{number}: not a result line of `action-run predict --out` ({e}); write to another "
                "file or pass --overwrite"
            ) from e
        finished[name] = "top_k" in row
    return {name for name, ok in finished.items() if ok}


def predict_batch(
    inferencer: Inferencer,
    inputs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    root: str | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    batch_size: int | None = None,
    top_k: int | None = None,
    features: bool = False,
    progress: bool = False,
) -> BatchSummary:
    """Predict every video of ``inputs`` (see :func:`collect_videos`) into the JSON-lines file ``out``,
    skipping ids already there unless ``overwrite``; unreadable videos are written as error lines and
    counted, never fatal."""
    from action_core.engine.inferencer import Skipped

    videos = collect_videos(inputs, root=root)
    if not videos:
        raise ConfigError(
            f"no videos found in {', '.join(map(os.fspath, inputs))} (video files end in "
            f"{', '.join(sorted(VIDEO_SUFFIXES))}; lists in {', '.join(sorted(LIST_SUFFIXES))})"
        )
    out_path = Path(out)
    if overwrite:
        out_path.unlink(missing_ok=True)
    finished = read_finished(out_path)
    pending = [(name, path) for name, path in videos if name not in finished]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    predicted = 0
    skipped: dict[str, str] = {}
    paths = {name: path for name, path in pending}
    with open(out_path, "a", encoding="utf-8") as handle:
        if pending:
            results = inferencer.predict_files(
                [path for _, path in pending],
                ids=[name for name, _ in pending],
                workers=workers,
                batch_size=batch_size,
                top_k=top_k,
                features=features,
                progress=progress,
            )
            for result in results:
                row: dict[str, Any] = {"id": result.source, "path": paths[result.source]}
                if isinstance(result, Skipped):
                    row.update(error=result.reason, cause=result.cause)
                    skipped[result.source] = result.reason
                else:
                    row["top_k"] = [[c.label, round(c.score, 6)] for c in result.top_k]
                    if result.features is not None:
                        row["features"] = [round(float(v), 6) for v in result.features]
                    predicted += 1
                handle.write(json.dumps(row) + "\n")
                handle.flush()
    return BatchSummary(predicted, skipped, len(videos) - len(pending), time.perf_counter() - start)
