"""Live mode on a real-time-paced source (issue #20): frame-to-label latency and memory over a long run.

Writes a long video of synthetic motion clips (action-synthetic's ``write_long_video``, 64x64 at 8 fps), then
runs ``action-run live --source VIDEO --realtime`` with a checkpoint in a child process for ``--seconds`` of
stream, sampling the child's resident memory (``/proc/PID/status`` VmRSS, Linux) every ``--every`` seconds.
Prints the run's summary (frames, predictions, dropped frames, median and 90th-percentile latency from a
frame's arrival to the first label that includes it) and the memory at the first minute and at the end.

    .venv/bin/action-run demo --presets tsm_r18_synthetic --work-dir work_dirs/demo --no-video
    .venv/bin/python core/benchmarks/bench_live.py work_dirs/demo/tsm_r18_synthetic/best.pth --seconds 600
"""

from __future__ import annotations

import argparse
import statistics
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
        while process.poll() is None:
            value = rss_mib(process.pid)
            if value is not None:
                samples.append((time.monotonic() - start, value))
            time.sleep(args.every)
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"action-run live failed:\n{stderr[-3000:]}")
        print(stderr.strip().splitlines()[-1])
    if len(samples) >= 4:
        settled = samples[0][0] + 60  # a minute in: model loaded, buffers full
        first = [v for t, v in samples if t >= settled][:3] or [samples[len(samples) // 2][1]]
        last = [v for _, v in samples[-3:]]
        print(
            f"resident memory: {statistics.median(first):.0f} MiB a minute in, {statistics.median(last):.0f} MiB "
            f"at the end ({len(samples)} samples over {samples[-1][0]:.0f} s; peak {max(v for _, v in samples):.0f} MiB)"
        )


if __name__ == "__main__":
    main()
