"""How much the data pipeline adds over pure decoding, per clip, measured side by side.

    PYTHONPATH=core/src python core/benchmarks/bench_pipeline.py [--clips 40] [--video PATH]

For each setting, the same clips (same seeds, so the same frames) go through
  decode:    sampler + DecodeFrames
  pipeline:  sampler + DecodeFrames + Resize(-1, 256) + RandomCrop(224) + Flip + Normalize + FormatShape
  on device: the same with Normalize(on_device=True): uint8 out, normalised by the engine after the copy
             to the device (as MMAction2 1.x's data preprocessor does); timed here without that step
in turn, one thread. It prints clips/s and the overhead ratios (pipeline / decode), by wall-clock time and by
CPU time (the latter is steadier on a shared machine).
Without ``--video`` it writes 10 s H.264 test videos (x264 defaults, GOP 250) at 340x256 and at 320x240
(the latter needs a real resize to shorter side 256).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from action_core.data import build_pipeline, keep_freed_memory

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
SAMPLERS = {
    "TSN 8x1x1 train": {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 8},
    "TSN 8 fast train": {"type": "SampleFrames", "clip_len": 1, "num_clips": 8, "fast": True},
    "dense 32x2 train": {"type": "SampleFrames", "clip_len": 32, "frame_interval": 2, "num_clips": 1},
}


def make_video(path: Path, width: int, height: int, seconds: int = 10, fps: int = 30) -> Path:
    """A moving-gradient H.264 clip (x264 defaults: GOP 250, B-frames)."""
    yy, xx = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            arr = np.stack([(xx + 3 * i) % 256, (yy + 2 * i) % 256, (xx + yy + i) % 256], -1).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def bench(video: str, sampler: dict, clips: int, input_format: str) -> dict[str, tuple[float, float]]:
    def train_pipeline(on_device: bool) -> object:
        return build_pipeline(
            [
                sampler,
                {"type": "DecodeFrames"},
                {"type": "Resize", "scale": [-1, 256]},
                {"type": "RandomCrop", "size": 224},
                {"type": "Flip", "flip_ratio": 0.5},
                {"type": "Normalize", "mean": MEAN, "std": STD, "on_device": on_device},
                {"type": "FormatShape", "input_format": input_format},
            ]
        )

    pipes = {
        "decode": build_pipeline([sampler, {"type": "DecodeFrames"}]),
        "pipeline": train_pipeline(False),
        "on device": train_pipeline(True),
    }
    wall = dict.fromkeys(pipes, 0.0)
    cpu = dict.fromkeys(pipes, 0.0)
    order = list(pipes.items())
    for i in range(clips + 2):
        order = order[1:] + order[:1]  # rotate who goes first
        for name, pipe in order:
            np.random.seed(i)
            start, start_cpu = time.perf_counter(), time.process_time()
            out = pipe({"filename": video, "label": 0})
            if i >= 2:  # the first two rounds warm caches up
                wall[name] += time.perf_counter() - start
                cpu[name] += time.process_time() - start_cpu
            assert out["imgs"].numel() > 0
    return {k: (clips / wall[k], clips / cpu[k]) for k in wall}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--video", action="append", help="video file(s) to use instead of generated ones")
    parser.add_argument(
        "--system-malloc",
        action="store_true",
        help="skip keep_freed_memory() (which DataLoader workers apply)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.system_malloc:
        print("glibc keeps freed memory (as in build_dataloader's workers):", keep_freed_memory())
    with tempfile.TemporaryDirectory() as tmp:
        videos = args.video or [
            str(make_video(Path(tmp) / "v340x256.mp4", 340, 256)),
            str(make_video(Path(tmp) / "v320x240.mp4", 320, 240)),
        ]
        print(
            "clips/s by wall-clock time and by CPU time of this process; ratio = pipeline time / decode time"
        )
        print(
            f"{'video':<10} {'sampler':<17} {'decode wall':>11} {'pipe wall':>9} {'ratio':>6}"
            f" {'decode cpu':>10} {'pipe cpu':>8} {'ratio':>6} {'on-device cpu':>13} {'ratio':>6}"
        )
        for video in videos:
            for label, sampler in SAMPLERS.items():
                fmt = "NCHW" if sampler["clip_len"] == 1 else "NCTHW"
                r = bench(video, sampler, args.clips, fmt)
                (dw, dc), (pw, pc), (_, oc) = r["decode"], r["pipeline"], r["on device"]
                print(
                    f"{Path(video).stem:<10} {label:<17} {dw:>11.2f} {pw:>9.2f} {dw / pw:>6.3f}"
                    f" {dc:>10.2f} {pc:>8.2f} {dc / pc:>6.3f} {oc:>13.2f} {dc / oc:>6.3f}"
                )


if __name__ == "__main__":
    main()
