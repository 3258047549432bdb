"""One run at a time in a work dir, and a work dir whose files always belong to that run.

:func:`claim_work_dir` is what :meth:`Trainer.fit <action_core.engine.trainer.Trainer.fit>` does first, on global
rank 0 only (the one process that writes there):

- It takes the work dir's lock, ``run.lock``: a file that holds the pid, host name, start time and command of
  the run, locked with ``fcntl.flock`` for as long as the run lasts. The operating system drops the lock when
  the process ends however it ends, so a lock file left by a killed run is stale: it is taken over with one
  log line. A second run while the first is alive is refused with :class:`WorkDirError` naming the holder.
- It removes leftover temporary files (``.*.tmp``: an atomic write interrupted by a kill), with a log line.
- A work dir that holds a run (checkpoints or a log) is only used again with ``resume`` (continue that run) or
  ``overwrite`` (remove that run's files, listed in a log line, and start afresh); resuming a checkpoint of
  another work dir into one that holds a run needs ``overwrite`` too.
- After a resume, :meth:`WorkDirClaim.resumed` makes the work dir agree with the checkpoint: log records past
  the checkpoint (work that is redone) are dropped, a missing ``epoch_end`` record of a completed epoch is
  restored from the checkpoint, and an ``epoch_N.pth`` / ``best.pth`` that a kill prevented from being written
  at the checkpoint's epoch is copied from it.

Other ranks wait for rank 0's verdict and stop with it, so a refused ``torchrun`` job never hangs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from action_core.errors import ActionError

__all__ = [
    "LOCK_NAME",
    "LockHolder",
    "WorkDirClaim",
    "WorkDirError",
    "WorkDirLock",
    "claim_work_dir",
    "run_files",
]

logger = logging.getLogger("action_core.engine")

LOCK_NAME = "run.lock"
LOG_NAME = "log.jsonl"
_CHECKPOINT = re.compile(r"^(last|best|epoch_\d+)\.pth$")
_TEMPORARY = re.compile(r"^\..+\.tmp$")
# What a run writes besides its checkpoints and log; removed with them by ``overwrite``.
_RUN_OUTPUTS = ("curves.png", "confusion_matrix.png")


class WorkDirError(ActionError):
    """A work dir is in use by another run, or holds a run and neither resume nor overwrite was asked for."""


@attrs.frozen
class LockHolder:
    """Who holds (or held) a work dir's lock."""

    pid: int
    hostname: str
    started: float  # seconds since the epoch
    command: str = ""

    def describe(self) -> str:
        """``pid 123 on host, started 2024-05-01 10:00:00 (command)``."""
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        command = f" ({self.command})" if self.command else ""
        return f"pid {self.pid} on {self.hostname}, started {started}{command}"

    @classmethod
    def me(cls) -> LockHolder:
        """This process."""
        return cls(os.getpid(), socket.gethostname(), time.time(), " ".join(sys.argv)[:300])


class WorkDirLock:
    """The exclusive lock of a work dir: ``<work_dir>/run.lock``, held with ``fcntl.flock``.

    :meth:`acquire` raises :class:`WorkDirError` naming the holder while another process holds it, and returns
    the previous holder when it takes over a lock file left by a process that died (``None`` otherwise).
    :meth:`release` removes the file. The lock is per open file, so it also keeps out a second run in the same
    process. On file systems without working ``flock`` (some network mounts) the kernel cannot see a holder on
    another machine; use a work dir per machine there.
    """

    def __init__(self, work_dir: str | os.PathLike[str]) -> None:
        self.path = Path(work_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> LockHolder | None:
        """Take the lock; see the class docstring."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # not a POSIX system (Windows): no lock; the other work dir checks still apply
            warnings.warn(
                f"work dir {str(self.path.parent)!r} is not locked: locking needs fcntl (Linux, macOS); do not "
                "start two runs into it at once",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd, wait=True)
                os.close(fd)
                who = (
                    holder.describe() if holder is not None else "a process that has not written its details"
                )
                raise WorkDirError(
                    f"work dir {str(self.path.parent)!r} is in use by another run: {who}. Wait for it to "
                    f"finish or use another --work-dir. If that run is gone (on another machine whose file "
                    f"system does not support locks), delete {str(self.path)!r}."
                ) from None
            # A releasing holder unlinks the file while still holding it: make sure ours is the live one.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _read_holder(fd, wait=False)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(attrs.asdict(LockHolder.me())).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return previous

    def release(self) -> None:
        """Remove the lock file and drop the lock (nothing when not held)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def _read_holder(fd: int, *, wait: bool) -> LockHolder | None:
    # A new holder writes its details just after taking the lock; give it a moment.
    for _ in range(20 if wait else 1):
        data = os.pread(fd, 4096, 0)
        if data:
            try:
                fields = json.loads(data)
                return LockHolder(**{k: fields[k] for k in ("pid", "hostname", "started", "command")})
            except (ValueError, TypeError, KeyError):
                return None
        if wait:
            time.sleep(0.05)
    return None


def run_files(work_dir: str | os.PathLike[str]) -> list[str]:
    """The files that show a work dir holds a run: checkpoints (``last.pth``, ``best.pth``, ``epoch_N.pth``)
    and a non-empty ``log.jsonl``, sorted."""
    folder = Path(work_dir)
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if _CHECKPOINT.match(p.name) and p.is_file()]
    log = folder / LOG_NAME
    if log.is_file() and log.stat().st_size > 0:
        found.append(LOG_NAME)
    return sorted(found)


def _remove_temporaries(folder: Path) -> list[str]:
    removed = []
    for path in folder.iterdir():
        if _TEMPORARY.match(path.name) and path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path.name)
    return sorted(removed)


def _remove_previous_run(folder: Path) -> list[str]:
    removed = []
    for name in run_files(folder) + [n for n in _RUN_OUTPUTS if (folder / n).is_file()]:
        (folder / name).unlink()
        removed.append(name)
    events = folder / "tensorboard"
    if events.is_dir():
        for path in sorted(events.glob("events.out.tfevents.*")):
            path.unlink()
            removed.append(f"tensorboard/{path.name}")
    if (folder / LOG_NAME).is_file():  # an empty log
        (folder / LOG_NAME).unlink()
    return removed


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve()


@attrs.define
class WorkDirClaim:
    """A work dir claimed by :func:`claim_work_dir`: locked (on rank 0) until :meth:`release`."""

    work_dir: Path
    is_main: bool
    lock: WorkDirLock | None = None

    def resumed(self, run: Any, checkpoint: Path | None) -> None:
        """Make the log and the epoch/best checkpoints agree with the position ``run`` (the Trainer) resumed
        at from ``checkpoint`` (``None``: nothing found, a fresh start). Rank 0 only; call it before the
        loggers open the log."""
        if not self.is_main:
            return
        notes = _reconcile_log(self.work_dir / LOG_NAME, run)
        if checkpoint is not None and _inside(Path(checkpoint), self.work_dir):
            notes += _repair_checkpoints(self.work_dir, run, Path(checkpoint))
        if notes:
            logger.warning(
                "work dir %s made to agree with the checkpoint resumed from: %s",
                self.work_dir,
                "; ".join(notes),
            )

    def release(self) -> None:
        """Drop the lock."""
        if self.lock is not None:
            self.lock.release()


@contextlib.contextmanager
def claim_work_dir(
    work_dir: str | os.PathLike[str],
    *,
    resume: str | os.PathLike[str] | None,
    overwrite: bool,
    is_main: bool,
    device: Any = None,
) -> Iterator[WorkDirClaim]:
    """Lock ``work_dir`` for a run and check it may be used; see the module docstring.

    ``resume`` is ``None``, ``"auto"`` or a checkpoint path; ``overwrite`` removes a previous run's files.
    Every rank of a distributed job calls it; rank 0 (``is_main``) decides and the others follow.
    """
    import torch

    from action_core.engine.distributed import all_reduce_max

    folder = Path(work_dir)
    claim = WorkDirClaim(folder, is_main)
    error: Exception | None = None
    if is_main:
        try:
            claim.lock = _claim_on_main(folder, resume=resume, overwrite=overwrite)
        except Exception as e:  # any failure here must also stop the ranks waiting below
            error = e
    refused = all_reduce_max(1.0 if error is not None else 0.0, device or torch.device("cpu"))
    if error is not None:
        raise error
    if refused:
        raise WorkDirError(f"work dir {str(folder)!r} was refused by rank 0; its message says why")
    try:
        yield claim
    finally:
        claim.release()


def _claim_on_main(folder: Path, *, resume: str | os.PathLike[str] | None, overwrite: bool) -> WorkDirLock:
    if overwrite and resume is not None and str(resume) == "auto":
        raise WorkDirError(
            "--overwrite and --resume auto contradict each other: --resume auto continues the run in the work "
            "dir, --overwrite removes it. Pass one of them (with --overwrite, --resume may name a checkpoint "
            "of another work dir)."
        )
    lock = WorkDirLock(folder)
    stale = lock.acquire()
    try:
        if stale is not None:
            logger.warning(
                "work dir %s: taking over the lock of %s, which is no longer running",
                folder,
                stale.describe(),
            )
        leftovers = _remove_temporaries(folder)
        if leftovers:
            logger.warning(
                "work dir %s: removed %d temporary file(s) left by an interrupted write: %s",
                folder,
                len(leftovers),
                ", ".join(leftovers),
            )
        present = run_files(folder)
        from_elsewhere = resume is not None and str(resume) != "auto" and not _inside(Path(resume), folder)
        if present and not overwrite and (resume is None or from_elsewhere):
            listed = ", ".join(present)
            if resume is None:
                raise WorkDirError(
                    f"work dir {str(folder)!r} already holds a run ({listed}). Pass --resume auto to continue "
                    "it (or --resume PATH for one of its checkpoints), or --overwrite to remove that run's "
                    "checkpoints and log and start afresh there, or choose another --work-dir."
                )
            raise WorkDirError(
                f"work dir {str(folder)!r} holds a run ({listed}), and {str(resume)!r} is a checkpoint of "
                "another work dir: continuing it here would mix the two runs' checkpoints and logs. Add "
                "--overwrite to remove the run that is there first, or resume into an empty --work-dir."
            )
        if overwrite:
            removed = _remove_previous_run(folder)
            if removed:
                logger.warning(
                    "work dir %s: --overwrite removed the previous run's files: %s (other files are left as "
                    "they are)",
                    folder,
                    ", ".join(removed),
                )
    except BaseException:
        lock.release()
        raise
    return lock


def _reconcile_log(path: Path, run: Any) -> list[str]:
    """Keep the records up to the checkpoint's step, restore missing epoch ends; rewrite atomically."""
    if not path.is_file():
        return []
    kept: list[dict[str, Any]] = []
    dropped = unreadable = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a kill
            unreadable += 1
            continue
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, int) and step > run.iteration:
            dropped += 1
            continue
        kept.append(record)
    restored = _restore_epoch_ends(kept, run)
    if not (dropped or unreadable or restored):
        return []
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in kept)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    notes = []
    if dropped:
        notes.append(
            f"dropped {dropped} log record(s) after step {run.iteration} (redone from the checkpoint)"
        )
    if unreadable:
        notes.append(f"dropped {unreadable} unreadable log line(s)")
    if restored:
        notes.append(
            f"restored the epoch_end record of epoch(s) {', '.join(map(str, restored))} from the checkpoint"
        )
    return notes


def _restore_epoch_ends(records: list[dict[str, Any]], run: Any) -> list[int]:
    """Insert an ``epoch_end`` record for each completed epoch that has none (in place); returns them."""
    logged = {r.get("epoch") for r in records if r.get("event") == "epoch_end"}
    restored = []
    for epoch in range(1, run.epoch + 1):
        if epoch in logged:
            continue
        if epoch == run.epoch:
            metrics = dict(run.last_metrics)
            step = run.iteration - run.batch_in_epoch
        else:  # only the checkpoint's curves know older epochs
            metrics = {
                key: y
                for key, points in run.history.items()
                if key == "train/epoch_loss" or key.startswith("val/")
                for x, y in points
                if x == epoch
            }
            step = epoch * run.iters_per_epoch
        record: dict[str, Any] = {"time": time.time(), "event": "epoch_end", "epoch": epoch, "step": step}
        record.update({k: _finite(v) for k, v in metrics.items()})
        record["restored"] = True
        at = next(
            (i for i, r in enumerate(records) if isinstance(r.get("step"), int) and r["step"] > step),
            len(records),
        )
        records.insert(at, record)
        restored.append(epoch)
    return restored


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _stored_position(path: Path) -> tuple[int, int] | None:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return int(state["epoch"]), int(state["iteration"])
    except Exception:  # missing, truncated or foreign: not the checkpoint we need
        return None


def _repair_checkpoints(folder: Path, run: Any, checkpoint: Path) -> list[str]:
    """At an epoch end, the copies a kill may have prevented: ``epoch_N.pth`` and ``best.pth``."""
    from action_core.engine.checkpoint import atomic_copy

    if run.batch_in_epoch or run.epoch == 0:
        return []
    position = (run.epoch, run.iteration)
    wanted = []
    interval = run.cfg.train.ckpt_interval
    if interval and run.epoch % interval == 0:
        wanted.append(folder / f"epoch_{run.epoch}.pth")
    if run.best.get("epoch") == run.epoch and run.best.get("value") is not None:
        wanted.append(folder / "best.pth")
    notes = []
    for target in wanted:
        if target.resolve() != checkpoint.resolve() and _stored_position(target) != position:
            atomic_copy(checkpoint, target)
            notes.append(f"wrote {target.name} (epoch {run.epoch}) from {checkpoint.name}")
    return notes
