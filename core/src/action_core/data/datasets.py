"""Datasets over lists of records: ``VideoDataset`` (video files) and ``RawframeDataset`` (frame folders).

An item is ``{"inputs": Tensor, "label": Tensor, "index": int}``: ``label`` is an int64 scalar (-1 when
unlabelled) or, for multi-label data, a float multi-hot vector of ``num_classes``.

Bad media (missing, empty, truncated, undecodable, too short) follows ``bad_media``:

- ``"error"``: raise the reader's :class:`~action_core.video.MediaError`, which names the file and the cause;
- ``"skip"``: log the file and the reason, return the next readable sample instead (index + 1, + 2, ...; the
  same replacement every time), and record the skip in :attr:`bad_media_log`. The log is an append-only file
  that every DataLoader worker process writes to, so :meth:`bad_media_report` in the main process sees the
  skips of all workers (call it at epoch end).

A pipeline step that cannot process a sample (a crop larger than the video, a clip that does not split into the
configured views) raises :class:`SampleError`, naming the file and the list row; that is not bad media (the
pipeline does not fit the data), so ``"skip"`` does not hide it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import torch
from torch.utils.data import Dataset

from action_core.data.pipeline import build_pipeline
from action_core.data.records import RawframeRecord, VideoRecord
from action_core.errors import ActionError

logger = logging.getLogger("action_core.data")

BadMedia = Literal["error", "skip"]


@attrs.frozen
class BadMediaReport:
    """Skips since the last report: ``count`` samples were replaced; ``files`` maps each bad file to why."""

    count: int
    files: dict[str, str]

    def __str__(self) -> str:
        if not self.count and not self.files:
            return "no bad media"
        lines = [f"skipped {self.count} sample(s) because of {len(self.files)} unreadable file(s):"]
        lines += [f"  {path}: {reason}" for path, reason in sorted(self.files.items())]
        return "\n".join(lines)


def _remove(path: str, owner: int) -> None:
    # Forked DataLoader workers carry a copy of the finalizer; only the process that made the file removes it.
    if os.getpid() == owner:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


class BadMediaLog:
    """Skipped files, shared by the main process and its DataLoader workers through an append-only file.

    Each skip is one JSON line written with a single ``O_APPEND`` write, so concurrent workers never interleave.
    Reports read from where the previous report stopped.
    """

    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(prefix="action-bad-media-", suffix=".jsonl")
        os.close(fd)
        self._cursor = 0
        self._finalizer = weakref.finalize(self, _remove, self.path, os.getpid())

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "_cursor": self._cursor}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._cursor = state["_cursor"]

    def record(self, path: str, reason: str, *, replaced: bool) -> None:
        """Note that ``path`` could not be read; ``replaced``: a requested sample was replaced because of it."""
        line = json.dumps({"path": path, "reason": reason, "replaced": replaced}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def _read(self, start: int) -> tuple[list[dict[str, Any]], int]:
        try:
            with open(self.path, "rb") as f:
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            return [], start
        complete = data[: data.rfind(b"\n") + 1]
        entries = [json.loads(line) for line in complete.decode("utf-8").splitlines() if line]
        return entries, start + len(complete)

    def report(self, *, since_last: bool = True) -> BadMediaReport:
        """Skips since the previous ``report`` (or all of them with ``since_last=False``)."""
        entries, end = self._read(self._cursor if since_last else 0)
        if since_last:
            self._cursor = end
        files: dict[str, str] = {}
        for e in entries:
            files.setdefault(e["path"], e["reason"])
        return BadMediaReport(count=sum(1 for e in entries if e["replaced"]), files=files)


class SampleError(ActionError, ValueError):
    """A pipeline step could not make a sample from one record's media; the message names the file (and the
    list row it comes from) and the step's reason."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


def _error_text(error: BaseException) -> str:
    cause = getattr(error, "cause", None)
    return f"{cause}: {error}" if cause else f"{type(error).__name__}: {error}"


class _RecordDataset(Dataset):
    """Shared logic of the record datasets: pipeline, labels, bad-media policy."""

    def __init__(
        self,
        records: Iterable[Any],
        pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
        *,
        test_mode: bool = False,
        multi_label: bool = False,
        num_classes: int | None = None,
        bad_media: BadMedia = "error",
        classes: Sequence[str] | None = None,
        max_replacements: int = 64,
    ) -> None:
        self.records = list(records)
        self.pipeline = pipeline if callable(pipeline) else build_pipeline(pipeline)
        self.test_mode = bool(test_mode)
        self.multi_label = bool(multi_label)
        self.classes = list(classes) if classes is not None else []
        self.num_classes = num_classes if num_classes is not None else (len(self.classes) or None)
        if self.multi_label and not self.num_classes:
            raise ValueError("multi_label datasets need num_classes (or classes) to build multi-hot labels")
        if bad_media not in ("error", "skip"):
            raise ValueError(f"bad_media must be 'error' or 'skip', got {bad_media!r}")
        self.bad_media = bad_media
        self.max_replacements = int(max_replacements)
        self.bad_media_log = BadMediaLog() if bad_media == "skip" else None
        self._known_bad: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.records)

    def _results(self, record: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _media_path(self, record: Any) -> str:
        raise NotImplementedError

    def _label_tensor(self, label: Any) -> torch.Tensor:
        if self.multi_label:
            hot = torch.zeros(int(self.num_classes), dtype=torch.float32)  # type: ignore[arg-type]
            if label is not None:
                ids = [label] if isinstance(label, int) else list(label)
                hot[torch.as_tensor(ids, dtype=torch.long)] = 1.0
            return hot
        if label is None:
            return torch.tensor(-1, dtype=torch.int64)
        if not isinstance(label, int):
            raise ValueError(
                f"single-label dataset got the label {label!r}; pass multi_label=True for label sets"
            )
        return torch.tensor(label, dtype=torch.int64)

    def load(self, index: int) -> dict[str, Any]:
        """Run the pipeline on record ``index`` and build the item; media errors propagate."""
        import av

        from action_core.video import MediaError

        record = self.records[index]
        results = self._results(record)
        try:
            out = self.pipeline(results)
        except ActionError:  # media errors and the like already name the file
            raise
        except (OSError, EOFError, av.error.FFmpegError) as e:
            # A reader that let a raw I/O or FFmpeg error through: still name the file and the cause.
            path = self._media_path(record)
            raise MediaError(
                f"cannot read {path!r}: {type(e).__name__}: {e}; the file is missing, corrupt or truncated",
                path=path,
                cause="undecodable",
            ) from e
        except ValueError as e:
            # Transforms raise ValueError for input they cannot process (a crop larger than the clip): the
            # message says what, not which file; name it and the row it is listed on.
            path = self._media_path(record)
            where = getattr(record, "where", None)
            raise SampleError(f"{where + ': ' if where else ''}{path!r}: {e}", path=path) from e
        finally:
            reader = results.get("reader")
            if reader is not None:
                reader.close()
        if out is None:
            raise RuntimeError(f"pipeline dropped sample {index} ({self._media_path(record)})")
        item = {"inputs": out["imgs"], "label": self._label_tensor(out.get("label")), "index": index}
        if "norm" in out:  # Normalize(on_device=True): the engine normalises the batch on the device
            item["norm"] = out["norm"]
        return item

    def __getitem__(self, index: int) -> dict[str, Any]:
        from action_core.video import MediaError

        if self.bad_media == "error":
            return self.load(index)
        n = len(self.records)
        for step in range(min(self.max_replacements, n)):
            i = (index + step) % n
            reason = self._known_bad.get(i)
            if reason is None:
                try:
                    return self.load(i)
                except MediaError as e:
                    reason = _error_text(e)
                    self._known_bad[i] = reason
                    logger.warning("skipping unreadable %s: %s", self._media_path(self.records[i]), reason)
            assert self.bad_media_log is not None
            self.bad_media_log.record(self._media_path(self.records[i]), reason, replaced=step == 0)
        raise MediaError(
            f"no readable sample among {min(self.max_replacements, n)} tried from index {index} "
            f"(first: {self._media_path(self.records[index])}); check the data root and run 'action-run doctor'",
            path=self._media_path(self.records[index]),
            cause="no readable replacement",
        )

    def bad_media_report(self, *, since_last: bool = True) -> BadMediaReport:
        """Samples skipped (by this process and its DataLoader workers) since the previous report."""
        if self.bad_media_log is None:
            return BadMediaReport(count=0, files={})
        return self.bad_media_log.report(since_last=since_last)


class VideoDataset(_RecordDataset):
    """Video files (:class:`VideoRecord`) through a pipeline that starts with a sampler and ``DecodeFrames``.

    ``start_index`` is added to sampled indices (0 for videos, as in MMAction2).
    """

    def __init__(
        self,
        records: Iterable[VideoRecord],
        pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
        *,
        test_mode: bool = False,
        multi_label: bool = False,
        num_classes: int | None = None,
        bad_media: BadMedia = "error",
        classes: Sequence[str] | None = None,
        start_index: int = 0,
    ) -> None:
        super().__init__(
            records,
            pipeline,
            test_mode=test_mode,
            multi_label=multi_label,
            num_classes=num_classes,
            bad_media=bad_media,
            classes=classes,
        )
        self.start_index = int(start_index)

    def _media_path(self, record: VideoRecord) -> str:
        return record.path

    def _results(self, record: VideoRecord) -> dict[str, Any]:
        return {
            "filename": record.path,
            "label": record.label,
            "start_index": self.start_index,
            "modality": "RGB",
            "start_time": record.start,
            "end_time": record.end,
            "test_mode": self.test_mode,
        }


class RawframeDataset(_RecordDataset):
    """Frame folders (:class:`RawframeRecord`), files ``filename_tmpl.format(start_index + offset + i)``.

    ``modality="Flow"`` reads x/y flow pairs (``filename_tmpl`` then takes the direction and the number,
    e.g. ``"{}_{:05d}.jpg"``).
    """

    def __init__(
        self,
        records: Iterable[RawframeRecord],
        pipeline: Sequence[Mapping[str, Any] | Callable] | Callable,
        *,
        test_mode: bool = False,
        multi_label: bool = False,
        num_classes: int | None = None,
        bad_media: BadMedia = "error",
        classes: Sequence[str] | None = None,
        filename_tmpl: str = "img_{:05d}.jpg",
        start_index: int = 1,
        modality: Literal["RGB", "Flow"] = "RGB",
    ) -> None:
        super().__init__(
            records,
            pipeline,
            test_mode=test_mode,
            multi_label=multi_label,
            num_classes=num_classes,
            bad_media=bad_media,
            classes=classes,
        )
        self.filename_tmpl = filename_tmpl
        self.start_index = int(start_index)
        self.modality = modality

    def _media_path(self, record: RawframeRecord) -> str:
        return record.frame_dir

    def _results(self, record: RawframeRecord) -> dict[str, Any]:
        return {
            "frame_dir": record.frame_dir,
            "total_frames": record.num_frames,
            "offset": record.offset,
            "label": record.label,
            "start_index": self.start_index,
            "filename_tmpl": self.filename_tmpl,
            "modality": self.modality,
            "test_mode": self.test_mode,
        }
