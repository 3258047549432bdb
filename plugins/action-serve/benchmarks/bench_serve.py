"""Concurrent uploads to `action-run serve` on the loopback address: latency, throughput, leaks.

    python plugins/action-serve/benchmarks/bench_serve.py [--clients 20] [--rounds 3] [--seconds 10]
        [--endpoint predict|timeline] [--preset tsm_r18_synthetic] [--size 128] [--fps 25]
        [--set KEY=VALUE ...]

Writes a checkpoint of the preset's model (random weights: the time does not depend on them) and a
synthetic-motion clip of ``--seconds``
(``--set`` overrides the preset as ``action-run --set`` does, e.g. a Kinetics-size crop with
``--set data.test.pipeline.2.crop_size=224 --size 256``), starts ``action-run serve`` on 127.0.0.1 (a free port, default
workers and a queue that holds every client), and sends ``--clients`` uploads at once, ``--rounds`` times.
Prints p50 / p95 latency, requests per second and the server's CPU seconds per request, and, as the
baseline run before each round (so that both see the same load on a shared machine), the same clip through
the Inferencer directly (no HTTP, one after the other, from a worker thread as in the server): the ratios say what serving costs on top of the
model. Fails if any request errs or any temporary file is left behind.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx


def make_inputs(
    folder: Path, preset: str, overrides: list[str], seconds: float, size: int, fps: int
) -> tuple[Path, Path]:
    """A checkpoint of ``preset`` as the trainer writes it, and a synthetic-motion clip."""
    import torch

    from action_core.api import build_model_from_config, load_experiment, save_checkpoint
    from action_synthetic.generate import MotionDatasetConfig, encode_video, render_video_frames

    cfg = load_experiment(preset, overrides)
    torch.manual_seed(0)
    model = build_model_from_config(cfg)
    classes = ["move_left", "move_right", "move_up", "move_down"][: cfg.model.num_classes]
    meta = {"config": cfg.to_dict(), "classes": classes or None}
    checkpoint = save_checkpoint({"model": model.state_dict(), "meta": meta}, folder / f"{preset}.pth")
    config = MotionDatasetConfig(
        classes=("move_left", "move_right", "move_up", "move_down"),
        size=size,
        num_frames=round(seconds * fps),
        fps=fps,
    )
    clip = folder / "clip.mp4"
    clip.write_bytes(encode_video(render_video_frames(config, "move_left", 0), fps=fps))
    return checkpoint, clip


class Direct:
    """The baseline: the same clip through the Inferencer in this process, one video after another."""

    def __init__(self, checkpoint: Path, clip: Path, endpoint: str) -> None:
        from action_core.api import Inferencer

        inferencer = Inferencer.from_checkpoint(checkpoint, device="cpu")
        if endpoint == "timeline":
            from action_serve.core_timeline import timeline_functions, timeline_inferencer

            windows = timeline_inferencer(inferencer)
            make = timeline_functions().make_timeline
            self.once: Any = lambda: make(windows, clip).to_dict()
        else:
            self.once = lambda: inferencer.predict_video(clip)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(self.once).result()  # warm-up

    def run(self, count: int) -> tuple[list[float], float]:
        """Wall seconds of each of ``count`` videos, and the process CPU seconds they took in all.

        The videos go through a worker thread, as the server runs the model (``anyio.to_thread``): on a
        busy machine, torch's OpenMP threads started from the main thread spin against the load and were
        up to 20 times slower per video than the same calls from a worker thread, which would flatter the
        server."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(self._run, count).result()

    def _run(self, count: int) -> tuple[list[float], float]:
        times = []
        cpu = time.process_time()
        for _ in range(count):
            start = time.perf_counter()
            self.once()
            times.append(time.perf_counter() - start)
        return times, time.process_time() - cpu


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux's /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(checkpoint: Path, tmp_dir: Path, queue: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "action_core.cli.main", "serve", str(checkpoint), "--host", "127.0.0.1",
               "--port", "0", "--device", "cpu", "--tmp-dir", str(tmp_dir), "--queue", str(queue),
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise SystemExit(f"action-run serve exited with {process.returncode}")
        match = re.match(r"open (http://127\.0\.0\.1:\d+/)$", line.strip())
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining its log
            return process, match.group(1)
    process.kill()
    raise SystemExit("action-run serve did not start within 300 s")


def burst(url: str, path: str, data: bytes, clients: int) -> tuple[list[float], float, list[int]]:
    """``clients`` uploads released together; per-request seconds, wall seconds, statuses."""
    gate = threading.Barrier(clients)

    def one(i: int) -> tuple[float, int]:
        with httpx.Client(timeout=600) as client:
            gate.wait()
            start = time.perf_counter()
            response = client.post(url + path, files={"file": (f"clip-{i}.mp4", data, "video/mp4")})
            return time.perf_counter() - start, response.status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(one, range(clients)))
    return [r[0] for r in results], time.perf_counter() - start, [r[1] for r in results]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the clip")
    parser.add_argument("--size", type=int, default=128, help="side of the clip's frames")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--endpoint", choices=["predict", "timeline"], default="predict")
    parser.add_argument("--baseline-videos", type=int, default=10,
                        help="videos through the Inferencer directly before each round")  # fmt: skip
    parser.add_argument("--preset", default="tsm_r18_synthetic")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override of the preset (repeatable)")  # fmt: skip
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as work:
        folder = Path(work)
        checkpoint, clip = make_inputs(folder, args.preset, args.overrides, args.seconds, args.size, args.fps)
        data = clip.read_bytes()
        baseline = Direct(checkpoint, clip, args.endpoint)
        tmp_dir = folder / "uploads"
        process, url = start_server(checkpoint, tmp_dir, queue=args.clients)
        latencies: list[float] = []
        statuses: list[int] = []
        rounds: list[dict[str, float]] = []
        try:
            path = "v1/predict" if args.endpoint == "predict" else "v1/timeline"
            burst(url, path, data, 1)  # warm-up: the first request pays one-off imports
            # Baseline and served bursts alternate, so that both see the same load on a shared machine.
            for _ in range(args.rounds):
                base, base_cpu = baseline.run(args.baseline_videos)
                before = cpu_seconds(process.pid)
                lat, wall, codes = burst(url, path, data, args.clients)
                after = cpu_seconds(process.pid)
                latencies += lat
                statuses += codes
                rounds.append({
                    "served_rate": args.clients / wall,
                    "direct_rate": len(base) / sum(base),
                    "served_cpu": (after - before) / args.clients if before is not None and after is not None
                    else float("nan"),
                    "direct_cpu": base_cpu / len(base),
                })  # fmt: skip
            # Only the server's own folder may remain while it runs: any file, or any request folder in it,
            # is a leak.
            leftovers = [
                str(p.relative_to(tmp_dir))
                for p in tmp_dir.rglob("*")
                if len(p.relative_to(tmp_dir).parts) > 1 or p.is_file()
            ]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        leftovers += [f"{p.name} (after stop)" for p in tmp_dir.iterdir()]

    cpu = next((line.split(":", 1)[1].strip() for line in _lscpu() if line.startswith("Model name")), "?")

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"clip: {args.seconds:g} s, {args.size}x{args.size}, {args.fps} fps, {len(data) / 1024:.0f} KB; "
          f"model: {args.preset} {' '.join(args.overrides)} (CPU, {os.cpu_count()} cores: {cpu})")  # fmt: skip
    print(f"endpoint /v1/{args.endpoint}: {args.rounds} rounds of {args.clients} concurrent uploads")
    errors = sum(code != 200 for code in statuses)
    print(f"  errors: {errors} of {len(statuses)}; leftover temporary files: {len(leftovers)}")
    print(f"  latency p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
          f"max {max(latencies):.2f} s")  # fmt: skip
    per_round = ", ".join(f"{r['served_rate']:.2f}" for r in rounds)
    print(f"  throughput {median('served_rate'):.2f} requests/s (median of rounds: {per_round}); "
          f"server CPU {median('served_cpu'):.3f} s per request")  # fmt: skip
    print(f"baseline, the Inferencer in-process, {args.baseline_videos} videos one after another before each "
          f"round: {median('direct_rate'):.2f} videos/s, CPU {median('direct_cpu'):.3f} s per video")  # fmt: skip
    print(f"ratio served / direct: throughput {median('served_rate') / median('direct_rate'):.2f}, "
          f"CPU per video {median('served_cpu') / median('direct_cpu'):.2f}")  # fmt: skip
    if errors or leftovers:
        raise SystemExit(f"FAILED: statuses {sorted(set(statuses))}, leftovers {leftovers[:5]}")


def _lscpu() -> list[str]:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    except OSError:
        return []


if __name__ == "__main__":
    main()
