"""The long-video timeline's two bars (issue #20), measured with a trained checkpoint.

``segments``: a long video of synthetic motion clips played one after another (action-synthetic's
``write_long_video``: the demo dataset's classes, sizes and renderer, clips it has never seen, no class twice
in a row) goes through ``make_timeline``; a true segment counts as found when a timeline segment of its
class overlaps it with tIoU >= 0.5. Also prints the precision (timeline segments that match a true one).

    .venv/bin/action-run demo --presets tsm_r18_synthetic --work-dir work_dirs/demo --no-video
    .venv/bin/python core/benchmarks/bench_timeline.py segments work_dirs/demo/tsm_r18_synthetic/best.pth

``memory``: a 10-minute and a 60-minute 340x256 25 fps H.264 video (FFmpeg's testsrc2 pattern; the 60-minute
one is the 10-minute one remuxed six times, no re-encoding; ``--minutes`` / ``--times`` change both) each go through ``make_timeline`` (as ``action-run
timeline`` runs it) in a child process of its own (``_timeline_child.py``); prints each run's peak RSS (the
child's ru_maxrss), windows and windows/s, and the ratio of the peaks.

    .venv/bin/python core/benchmarks/bench_timeline.py memory work_dirs/demo/tsm_r18_synthetic/best.pth
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av


def match_segments(truth: list, found: list, *, tiou: float = 0.5) -> tuple[float, float, list[float]]:
    """(recall, precision, best tIoU per true segment): a true segment is found when a segment of its
    label overlaps it with temporal IoU >= ``tiou``; a found segment is right when it does so with one."""

    def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        union = max(a[1], b[1]) - min(a[0], b[0])
        return inter / union if union > 0 else 0.0

    best = [
        max([iou((t.start, t.end), (f.start, f.end)) for f in found if f.label == t.label] or [0.0])
        for t in truth
    ]
    right = [
        any(f.label == t.label and iou((t.start, t.end), (f.start, f.end)) >= tiou for t in truth)
        for f in found
    ]
    recall = sum(b >= tiou for b in best) / len(truth)
    precision = sum(right) / len(found) if found else 0.0
    return recall, precision, best


def segments_main(args: argparse.Namespace) -> None:
    from action_core.api import Inferencer, make_timeline
    from action_synthetic.generate import MotionDatasetConfig
    from action_synthetic.long_video import write_long_video

    inferencer = Inferencer.load(args.checkpoint, device="cpu")
    test = inferencer.cfg.data.test.args  # the preset's dataset arguments: classes, size, frames
    config = MotionDatasetConfig(
        classes=tuple(test.get("classes", ())) or MotionDatasetConfig().classes,
        size=int(test.get("size", 64)),
        num_frames=int(test.get("num_frames", 16)),
    )
    print(
        f"model {args.checkpoint}; classes {list(config.classes)}; {config.num_frames} frames at {config.fps} fps"
    )
    recalls = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.videos):
            video = Path(tmp) / f"long_{seed}.mp4"
            truth = write_long_video(video, config, segments=args.segments, seed=seed)
            start = time.perf_counter()
            timeline = make_timeline(inferencer, video, smooth=args.smooth)
            seconds = time.perf_counter() - start
            recall, precision, best = match_segments(truth, list(timeline.segments))
            recalls.append(recall)
            print(
                f"video {seed}: {len(truth)} true segments ({truth[-1].end:.0f} s), {len(timeline.segments)} "
                f"found; recall@tIoU0.5 {recall:.3f}, precision {precision:.3f}, median best tIoU "
                f"{sorted(best)[len(best) // 2]:.2f}; {len(timeline.starts)} windows of "
                f"{timeline.window_frames} frames every {timeline.stride_frames} in {seconds:.1f} s"
            )
    total = sum(recalls) / len(recalls)
    print(f"mean recall@tIoU0.5 over {len(recalls)} videos: {total:.3f} (bar: >= 0.90)")


def make_test_video(path: Path, minutes: float) -> None:
    """``minutes`` of 340x256 25 fps testsrc2 as H.264 (ultrafast, keyframe every 250 frames)."""
    pattern = f"testsrc2=size=340x256:rate=25:duration={minutes * 60}"
    with av.open(pattern, format="lavfi") as src, av.open(str(path), "w") as dst:
        out = dst.add_stream("libx264", rate=25)
        out.width, out.height, out.pix_fmt = 340, 256, "yuv420p"
        out.options = {"preset": "ultrafast", "g": "250"}
        for frame in src.decode(video=0):
            frame.pts = None
            for packet in out.encode(frame.reformat(format="yuv420p")):
                dst.mux(packet)
        for packet in out.encode():
            dst.mux(packet)


def repeat_video(src: Path, dst: Path, times: int) -> None:
    """``src`` played ``times`` times in a row, by copying its packets with shifted timestamps."""
    with av.open(str(src)) as first:
        span = first.streams.video[0].duration or int(
            first.duration / 1_000_000 / first.streams.video[0].time_base
        )
    with av.open(str(dst), "w") as out:
        stream = None
        for k in range(times):
            with av.open(str(src)) as source:
                vin = source.streams.video[0]
                if stream is None:
                    stream = out.add_stream_from_template(vin)
                for packet in source.demux(vin):
                    if packet.dts is None:
                        continue
                    packet.pts += k * span
                    packet.dts += k * span
                    packet.stream = stream
                    out.mux(packet)


def memory_main(args: argparse.Namespace) -> None:
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="bench_timeline_"))
    work.mkdir(parents=True, exist_ok=True)
    minutes, times = args.minutes, args.times
    short = work / f"{minutes:g}_minutes.mp4"
    long = work / f"{minutes * times:g}_minutes.mp4"
    if not short.exists():
        start = time.perf_counter()
        make_test_video(short, minutes)
        print(f"made {short.name} in {time.perf_counter() - start:.0f} s")
    if not long.exists():
        repeat_video(short, long, times)
    runner = Path(__file__).with_name("_timeline_child.py")
    rows = []
    for video in (short, long):
        out = work / f"{video.stem}.json"
        command = [sys.executable, str(runner), args.checkpoint, str(video), str(out), args.stride]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        stdout, stderr = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
        if status != 0:
            raise SystemExit(f"timeline of {video} failed:\n{stderr[-3000:]}")
        report = json.loads(stdout.strip().splitlines()[-1])
        rss = usage.ru_maxrss / 1024  # KiB on Linux
        rows.append((video.name, report, rss, seconds))
        print(
            f"{video.name}: {report['duration'] / 60:.1f} min, {report['windows']} windows in "
            f"{report['seconds']:.0f} s ({report['windows'] / report['seconds']:.1f} windows/s, "
            f"{report['frames'] / report['seconds']:.0f} frames/s decoded); peak RSS {rss:.0f} MiB",
            flush=True,
        )
    ratio = rows[1][2] / rows[0][2]
    print(f"peak RSS {minutes * times:g} min / {minutes:g} min: {ratio:.3f} (bar: <= 1.10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    seg = sub.add_parser("segments", help="true segments found in synthetic long videos")
    seg.add_argument("checkpoint")
    seg.add_argument("--videos", type=int, default=3)
    seg.add_argument("--segments", type=int, default=30)
    seg.add_argument("--smooth", type=int, default=3)
    mem = sub.add_parser("memory", help="peak RSS on a 10- and a 60-minute video")
    mem.add_argument("checkpoint")
    mem.add_argument("--stride", default="2s")
    mem.add_argument("--minutes", type=float, default=10.0, help="length of the shorter video")
    mem.add_argument(
        "--times", type=int, default=6, help="the longer video is the shorter one this many times"
    )
    mem.add_argument("--work-dir", help="keep the videos here (default: a new temporary folder)")
    args = parser.parse_args()
    segments_main(args) if args.what == "segments" else memory_main(args)


if __name__ == "__main__":
    main()
