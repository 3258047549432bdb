"""Live mode on a real-time-paced source (issue #20): frame-to-label latency and memory over a long run.

Writes a long video of synthetic motion clips (action-synthetic's ``write_long_video``, 64x64 at 8 fps), then
runs ``action-run live --source VIDEO --realtime`` with a checkpoint in a child process for ``--seconds`` of
stream, sampling the child's resident memory (``/proc/PID/status`` VmRSS, Linux) every ``--every`` seconds.
Prints the run's summary (frames, predictions, dropped frames, median and 90th-percentile latency from a
frame's arrival to the first label that includes it) and the resident memory from the first label on (the
model loaded, the ring buffer full): first, last, peak and about once a minute.

    .venv/bin/action-run demo --presets tsm_r18_synthetic --work-dir work_dirs/demo --no-video
    .venv/bin/python core/benchmarks/bench_live.py work_dirs/demo/tsm_r18_synthetic/best.pth --seconds 600
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--seconds", type=float, default=600.0, help="seconds of stream to run for")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--rate", default="4", help="most predictions per second (action-run live --rate)")
    args = parser.parse_args()
    from action_synthetic.generate import MotionDatasetConfig
    from action_synthetic.long_video import write_long_video

    config = MotionDatasetConfig(classes=("move_left", "move_right", "move_up", "move_down"))
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "long.mp4"
        clip_seconds = config.num_frames / config.fps
        write_long_video(video, config, segments=int(args.seconds / clip_seconds) + 2)
        action_run = Path(sys.executable).with_name("action-run")
        command = [
            str(action_run),
            "live",
            "--source",
            str(video),
            "--realtime",
            "--checkpoint",
            args.checkpoint,
        ]
        command += [
            "--max-seconds",
            str(args.seconds),
            "--rate",
            args.rate,
            "--quiet",
            "--out",
            f"{tmp}/l.jsonl",
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples: list[tuple[float, float]] = []
        start = time.monotonic()
        first_label: float | None = None  # the model is loaded and the ring buffer full from here on
        labels = Path(tmp) / "l.jsonl"
        while process.poll() is None:
            value = rss_mib(process.pid)
            now = time.monotonic() - start
            if value is not None:
                samples.append((now, value))
            if first_label is None and labels.exists() and labels.stat().st_size > 0:
                first_label = now
            time.sleep(args.every)
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"action-run live failed:\n{stderr[-3000:]}")
        print(stderr.strip().splitlines()[-1])
    running = [(t, v) for t, v in samples if first_label is not None and t >= first_label]
    if len(running) >= 4:
        per_minute = [
            v
            for t, v in running
            if int((t - running[0][0]) // args.every) % max(1, int(60 / args.every)) == 0
        ]
        print(
            f"resident memory from the first label on ({len(running)} samples over {running[-1][0] - running[0][0]:.0f} s): "
            f"first {running[0][1]:.0f} MiB, last {running[-1][1]:.0f} MiB, peak {max(v for _, v in running):.0f} MiB; "
            f"about every minute: {' '.join(f'{v:.0f}' for v in per_minute)}"
        )


if __name__ == "__main__":
    main()
