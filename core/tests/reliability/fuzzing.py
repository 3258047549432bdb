"""How the fuzz tests run ``action-run``: in-process under a watchdog, with the output captured, checking that
a case ends with an exit code and at most an ``error:`` line (never a traceback) and writes nothing outside the
folders it was given; and the byte mutations applied to real files."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Derandomized so CI sees the same cases every run (a failure reproduces); ACTION_FUZZ_RANDOM=1 explores
# freshly seeded cases, ACTION_FUZZ_EXAMPLES=N runs N per test instead of each test's budget.
settings.register_profile(
    "action-fuzz",
    derandomize=not os.environ.get("ACTION_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


def budget(examples: int) -> settings:
    """Settings of one fuzz test: ``examples`` cases (or ``ACTION_FUZZ_EXAMPLES``)."""
    n = int(os.environ.get("ACTION_FUZZ_EXAMPLES", examples))
    return settings(settings.get_profile("action-fuzz"), max_examples=n)


TRACEBACK = "Traceback (most recent call last)"


class CaseHung(BaseException):
    """A case ran past its watchdog (a BaseException, so no ``except Exception`` in the code swallows it)."""


@contextlib.contextmanager
def watchdog(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the case with :class:`CaseHung` after ``seconds``; if the interpreter is stuck in C code and
    cannot be interrupted, dump every thread's stack and end the process after ``4 * seconds`` (a hang fails
    CI loudly instead of stalling it). Only the main thread can take signals: elsewhere (a pytest-xdist
    worker thread) only the last resort applies."""
    faulthandler.dump_traceback_later(4 * seconds, exit=True, file=sys.__stderr__)
    main = threading.current_thread() is threading.main_thread()
    if main:

        def on_alarm(signum: int, frame: object) -> None:
            raise CaseHung(f"{what} did not finish within {seconds} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@attrs.frozen
class Outcome:
    """What a user saw: the exit code, stdout and stderr."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def check(self, allowed: Sequence[int] = (0, 2)) -> Outcome:
        """A clean ending: an allowed exit code, no traceback, and a failure says ``error:`` on stderr."""
        where = f"action-run {' '.join(self.args)}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}"
        assert TRACEBACK not in self.out + self.err, f"a traceback reached the user:\n{where}"
        assert self.code in allowed, f"exit code {self.code}, expected one of {tuple(allowed)}:\n{where}"
        if self.code == 2:
            errors = [line for line in self.err.splitlines() if "error:" in line]
            assert errors, f"exit code 2 without an error line:\n{where}"
        return self


def run_cli(args: Sequence[str], *, timeout: float = 30.0) -> Outcome:
    """``action-run ARGS`` in this process (fast: torch and plugins stay imported), output captured.

    Anything but an exit code escaping the CLI is a raw traceback a user would have seen: it propagates.
    """
    from action_core.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with watchdog(timeout, " ".join(args)), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's usage errors (one "error:" line, exit 2)
            code = e.code if isinstance(e.code, int) else 2
    from hypothesis import currently_in_test_context, event

    if currently_in_test_context():
        event(f"{args[0]}: exit {code}")  # pytest --hypothesis-show-statistics shows how cases ended
    return Outcome(tuple(args), int(code), out.getvalue(), err.getvalue())


def snapshot(folder: Path) -> set[str]:
    """Every path below ``folder`` (links not followed), relative to it."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            found.add(os.path.relpath(os.path.join(dirpath, name), folder))
    return found


def assert_written_only_under(sandbox: Path, before: set[str], allowed: Sequence[Path]) -> None:
    """Nothing new in ``sandbox`` outside the ``allowed`` folders, and no link under them leads out."""
    allowed_rel = [os.path.relpath(a, sandbox) for a in allowed]
    new = snapshot(sandbox) - before
    outside = sorted(p for p in new if not any(p == a or p.startswith(a + os.sep) for a in allowed_rel))
    assert not outside, f"written outside the target folder: {outside[:10]}"
    for folder in allowed:
        real = os.path.realpath(folder)
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    target = os.path.realpath(path)
                    assert target == real or target.startswith(real + os.sep), f"{path} links out to {target}"


# -- byte mutations of real files ---------------------------------------------------------------------


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, float, int]]:
    """One to three edits: (``truncate`` | ``flip`` | ``zero`` | ``garbage`` | ``repeat``, where 0..1, size)."""
    op = st.sampled_from(["truncate", "flip", "zero", "garbage", "repeat"])
    edit = st.tuples(op, st.floats(0.0, 1.0), st.integers(1, 4096))
    return draw(st.lists(edit, min_size=1, max_size=3))


def mutate(data: bytes, edits: Sequence[tuple[str, float, int]], seed: int = 0) -> bytes:
    """Apply ``edits`` to ``data``: cut it at a point, flip bits, zero or overwrite a range, repeat a chunk."""
    import random

    rng = random.Random(seed)
    buf = bytearray(data)
    for op, where, size in edits:
        if not buf:
            break
        at = min(int(where * len(buf)), len(buf) - 1)
        if op == "truncate":
            del buf[at:]
        elif op == "flip":
            for _ in range(max(1, size // 256)):
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
        elif op == "zero":
            buf[at : at + size] = bytes(len(buf[at : at + size]))
        elif op == "garbage":
            buf[at : at + size] = rng.randbytes(len(buf[at : at + size]))
        else:
            buf[at:at] = buf[at : at + size]
    return bytes(buf)


def python_of(code: str) -> list[str]:
    """``python -c code`` with this interpreter (for the subprocess cases)."""
    return [sys.executable, "-c", code]
