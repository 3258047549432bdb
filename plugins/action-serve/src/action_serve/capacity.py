"""How many requests the server takes on: ``workers`` run the model at once, ``queue`` more may wait (while
uploading or for a worker), and any beyond that are answered 503 at once with a ``Retry-After`` estimate."""

from __future__ import annotations

import collections
import contextlib
import math
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from action_serve.errors import ServeError

__all__ = ["Capacity"]


class Capacity:
    """Admission and worker slots of one server (used from its event loop only, so plain counters do)."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers = int(workers)
        self.queue = int(queue)
        self.admitted = 0
        self.working = 0
        self.served = 0
        self.refused = 0
        self._slots: anyio.Semaphore | None = None
        self._durations: collections.deque[float] = collections.deque(maxlen=32)

    @property
    def waiting(self) -> int:
        """Admitted requests not working yet (uploading, checking the video, or queued for a worker)."""
        return self.admitted - self.working

    def retry_after(self) -> int:
        """Seconds until a worker is likely free for one more request: the median work time so far times
        the rounds of work ahead of it (at least 1 s)."""
        typical = statistics.median(self._durations) if self._durations else 2.0
        rounds = (self.waiting + 1) / self.workers
        return max(1, min(3600, math.ceil(typical * rounds)))

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Hold one of the ``workers + queue`` places for the whole request, or raise 503."""
        if self.admitted >= self.workers + self.queue:
            self.refused += 1
            seconds = self.retry_after()
            raise ServeError(
                503,
                "busy",
                f"the server is busy ({self.working} working, {self.waiting} waiting); try again in about "
                f"{seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        """Wait for one of the ``workers`` slots, then hold it while the model runs."""
        if self._slots is None:
            self._slots = anyio.Semaphore(self.workers)
        async with self._slots:
            self.working += 1
            start = time.monotonic()
            try:
                yield
            finally:
                self.working -= 1
                self.served += 1
                self._durations.append(time.monotonic() - start)

    def status(self) -> dict[str, Any]:
        """Counters for ``/healthz``."""
        return {
            "workers": self.workers,
            "queue": self.queue,
            "working": self.working,
            "waiting": self.waiting,
            "served": self.served,
            "refused_busy": self.refused,
        }
