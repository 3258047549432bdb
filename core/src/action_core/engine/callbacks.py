"""Run-time observers of a training run: the callback protocol and the built-in loggers.

A callback has any of the four methods below, named exactly like the plugin run-time hooks, so a plugin
module (or an adapter calling ``pm.hook.action_on_log(...)``) can be passed as a callback as it is::

    action_on_train_start(run)
    action_on_epoch_end(run, epoch, metrics)
    action_on_log(run, step, scalars)
    action_on_train_end(run, metrics)

``run`` is the :class:`~action_core.engine.trainer.Trainer` (``run.cfg``, ``run.work_dir``, ``run.epoch``,
``run.iteration``, ``run.model``, ``run.rank``). Callbacks are called on rank 0 only. An exception in a
callback is reported as a warning and the run goes on: an observer must not break training.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import traceback
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Callback",
    "CallbackList",
    "JsonLinesLogger",
    "PluginHookCallback",
    "TensorBoardLogger",
    "default_loggers",
]

_HOOKS = ("action_on_train_start", "action_on_epoch_end", "action_on_log", "action_on_train_end")


@runtime_checkable
class Callback(Protocol):
    """What a training observer may implement; every method is optional for :class:`CallbackList`."""

    def action_on_train_start(self, run: Any) -> None:
        """Once, after the model, data and optimiser are ready (and a resume is applied)."""

    def action_on_epoch_end(self, run: Any, epoch: int, metrics: Mapping[str, float]) -> None:
        """After every epoch (1-based ``epoch``) with its train loss and any validation metrics."""

    def action_on_log(self, run: Any, step: int, scalars: Mapping[str, float]) -> None:
        """Whenever scalars are logged; ``step`` is the optimiser iteration."""

    def action_on_train_end(self, run: Any, metrics: Mapping[str, float]) -> None:
        """Once at the end, with the final metrics."""


class CallbackList:
    """Calls each hook on every callback that defines it, in order; a failing callback only warns."""

    def __init__(self, callbacks: Iterable[Any] = ()):
        self.callbacks = list(callbacks)

    def _call(self, hook: str, **kwargs: Any) -> None:
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is None:
                continue
            try:
                method(**kwargs)
            except Exception as e:  # an observer never stops training
                detail = "".join(traceback.format_exception_only(e)).strip()
                warnings.warn(
                    f"callback {callback!r} failed in {hook}: {detail}", RuntimeWarning, stacklevel=3
                )

    def action_on_train_start(self, run: Any) -> None:
        """Dispatch ``action_on_train_start``."""
        self._call("action_on_train_start", run=run)

    def action_on_epoch_end(self, run: Any, epoch: int, metrics: Mapping[str, float]) -> None:
        """Dispatch ``action_on_epoch_end``."""
        self._call("action_on_epoch_end", run=run, epoch=epoch, metrics=dict(metrics))

    def action_on_log(self, run: Any, step: int, scalars: Mapping[str, float]) -> None:
        """Dispatch ``action_on_log``."""
        self._call("action_on_log", run=run, step=step, scalars=dict(scalars))

    def action_on_train_end(self, run: Any, metrics: Mapping[str, float]) -> None:
        """Dispatch ``action_on_train_end``."""
        self._call("action_on_train_end", run=run, metrics=dict(metrics))

    def close(self) -> None:
        """Close the callbacks that hold files or writers."""
        for callback in self.callbacks:
            close = getattr(callback, "close", None)
            if callable(close):
                close()


class PluginHookCallback:
    """Forwards the run to the plugins' run-time hooks: ``PluginHookCallback(get_host().hook)``.

    ``hook`` is a pluggy hook relay; each method calls the hook of the same name with keyword arguments.
    """

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def action_on_train_start(self, run: Any) -> None:
        """Call ``hook.action_on_train_start``."""
        self.hook.action_on_train_start(run=run)

    def action_on_epoch_end(self, run: Any, epoch: int, metrics: Mapping[str, float]) -> None:
        """Call ``hook.action_on_epoch_end``."""
        self.hook.action_on_epoch_end(run=run, epoch=epoch, metrics=metrics)

    def action_on_log(self, run: Any, step: int, scalars: Mapping[str, float]) -> None:
        """Call ``hook.action_on_log``."""
        self.hook.action_on_log(run=run, step=step, scalars=scalars)

    def action_on_train_end(self, run: Any, metrics: Mapping[str, float]) -> None:
        """Call ``hook.action_on_train_end``."""
        self.hook.action_on_train_end(run=run, metrics=metrics)


def _plain_number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class JsonLinesLogger:
    """Appends one JSON object per logged set of scalars to ``<work_dir>/log.jsonl``.

    Lines look like ``{"time": 1732600000.1, "step": 120, "epoch": 2, "train/loss": 0.71, "train/lr": 0.01}``;
    epoch ends add ``"event": "epoch_end"``. Non-finite values are written as ``null``. The file is
    appended to, so a resumed run continues its log.
    """

    def __init__(self, work_dir: str | Path, filename: str = "log.jsonl"):
        self.path = Path(work_dir) / filename
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def action_on_log(self, run: Any, step: int, scalars: Mapping[str, float]) -> None:
        """Write one line with the scalars; ``epoch`` is 1-based as in ``epoch_end`` records: the epoch in
        progress for iteration records, the epoch just completed for its summary."""
        epoch = getattr(run, "epoch", None)
        if epoch is not None and getattr(run, "batch_in_epoch", None):
            epoch += 1  # inside an epoch: run.epoch counts the epochs completed before it
        record: dict[str, Any] = {"time": time.time(), "step": step, "epoch": epoch}
        record.update({k: _plain_number(v) for k, v in scalars.items()})
        self._write(record)

    def action_on_epoch_end(self, run: Any, epoch: int, metrics: Mapping[str, float]) -> None:
        """Write the epoch's summary line."""
        record: dict[str, Any] = {"time": time.time(), "event": "epoch_end", "epoch": epoch}
        record["step"] = getattr(run, "iteration", None)
        record.update({k: _plain_number(v) for k, v in metrics.items()})
        self._write(record)

    def close(self) -> None:
        """Close the file."""
        if not self._file.closed:
            self._file.close()


class TensorBoardLogger:
    """Writes every logged scalar to TensorBoard event files in ``<work_dir>/tensorboard``."""

    def __init__(self, work_dir: str | Path):
        from torch.utils.tensorboard import SummaryWriter  # needs the optional `tensorboard` package

        self.writer = SummaryWriter(log_dir=str(Path(work_dir) / "tensorboard"))

    def action_on_log(self, run: Any, step: int, scalars: Mapping[str, float]) -> None:
        """Add each finite scalar at ``step``."""
        for key, value in scalars.items():
            number = _plain_number(value)
            if number is not None:
                self.writer.add_scalar(key, number, step)

    def action_on_epoch_end(self, run: Any, epoch: int, metrics: Mapping[str, float]) -> None:
        """Add the epoch's metrics under ``epoch/`` with the epoch as the step."""
        for key, value in metrics.items():
            number = _plain_number(value)
            if number is not None:
                self.writer.add_scalar(f"epoch/{key}", number, epoch)

    def close(self) -> None:
        """Flush and close the writer."""
        self.writer.close()


def default_loggers(work_dir: str | Path) -> list[Any]:
    """The JSON-lines log, plus TensorBoard when the ``tensorboard`` package is installed."""
    loggers: list[Any] = [JsonLinesLogger(work_dir)]
    with contextlib.suppress(ImportError):
        loggers.append(TensorBoardLogger(work_dir))
    return loggers
