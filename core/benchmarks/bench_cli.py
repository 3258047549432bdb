"""Start-up time of `action-run --help` and `action-run plugins` against a bare `python -c pass`.

    python core/benchmarks/bench_cli.py [--repeat 15]

Prints the median wall time of each command and its overhead over the bare interpreter start, run side
by side in one process so machine load affects all of them alike. Bars: --help ≤ 0.3 s, plugins ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    here = Path(sys.executable).parent / "action-run"
    action_run = str(here) if here.exists() else shutil.which("action-run") or "action-run"
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("action-run --help", [action_run, "--help"], 0.3),
        ("action-run plugins", [action_run, "plugins"], 0.5),
    ]
    base = None
    print(f"{'command':<22} {'median s':>9} {'over python':>12} {'bar s':>6}")
    for name, cmd, bar in rows:
        t = timed(cmd, args.repeat)
        base = t if base is None else base
        verdict = "" if bar is None else ("ok" if t <= bar else "OVER")
        print(f"{name:<22} {t:>9.3f} {t - base:>12.3f} {bar or '':>6} {verdict}")


if __name__ == "__main__":
    main()
