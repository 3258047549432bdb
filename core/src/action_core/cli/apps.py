"""``action-run predict | timeline | live``: argument parsing around the Inferencer and its applications
(:mod:`action_core.apps`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that pick the model and how it runs (shared by predict, timeline, live and servers)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH_OR_NAME",
        help="a checkpoint file (a training checkpoint carries its config) or the name of a published "
        "checkpoint of an installed model plugin (`action-run info MODEL` lists them)",
    )
    group.add_argument(
        "--config", help="preset or config file the checkpoint belongs to (default: the one stored in it)"
    )
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override one config value, e.g. --set data.test.pipeline.0.num_clips=16 (repeatable)",
    )
    group.add_argument("--label-map", help="class names, one per line (default: the names in the checkpoint)")
    group.add_argument("--views", help="clips x crops per input, e.g. 1x1 or 10x3 (default: see the command)")
    group.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    group.add_argument(
        "--amp",
        choices=["auto", "none", "bf16", "fp16"],
        default="auto",
        help="mixed precision (default auto: bf16 where the device computes it natively, else fp32)",
    )
    group.add_argument(
        "--batch-size", type=int, help="inputs per forward pass (default: 16 on a GPU, 4 on a CPU)"
    )
    group.add_argument("--top-k", type=int, default=5, help="how many classes each result lists (default 5)")


def build_inferencer(args: argparse.Namespace) -> Any:
    """The :class:`~action_core.engine.inferencer.Inferencer` that ``add_model_arguments`` options describe."""
    from action_core.engine.commands import read_label_map
    from action_core.engine.inferencer import Inferencer

    classes = read_label_map(args.label_map) if args.label_map else None
    return Inferencer.load(
        args.checkpoint,
        config=args.config,
        overrides=args.overrides,
        classes=classes,
        device=args.device,
        amp=args.amp,
        batch_size=args.batch_size,
        top_k=args.top_k,
        views=args.views,
    )


def predict_main(argv: list[str]) -> int:
    """Top-k labels of one video, or of many videos into a JSON-lines file."""
    parser = argparse.ArgumentParser(
        prog="action-run predict",
        description="Predict the action in a video, or in many: give folders, list files or several videos "
        "with --out results.jsonl (decoded in parallel, batched, resumable; unreadable files are skipped "
        "and named).",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="VIDEO_DIR_OR_LIST",
        help="video file(s), folder(s) searched recursively for videos, or list file(s) with one video per "
        "line (.txt/.list/.lst/.csv; MMAction2's 'path label' lines work)",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--out",
        metavar="RESULTS.jsonl",
        help="write one JSON line per video here (needed for more than one video); a run started again "
        "skips the videos already in it",
    )
    parser.add_argument("--overwrite", action="store_true", help="start --out afresh instead of resuming it")
    parser.add_argument(
        "--root", help="folder that relative paths in list files start from (default: the list's)"
    )
    parser.add_argument(
        "--workers", type=int, help="decoding processes (default: one per spare CPU core, at most 4)"
    )
    parser.add_argument("--features", action="store_true", help="also write each video's embedding")
    parser.add_argument(
        "--out-video", help="one video: write a copy with the top-k labels drawn on it to this file"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    from pathlib import Path

    from action_core.apps.batch import LIST_SUFFIXES

    single = (
        len(args.inputs) == 1
        and not Path(args.inputs[0]).is_dir()
        and Path(args.inputs[0]).suffix.lower() not in LIST_SUFFIXES
    )
    from action_core.errors import ConfigError

    named = " ".join(repr(str(item)) for item in args.inputs[:3]) + (" ..." if len(args.inputs) > 3 else "")
    if not single and args.out is None:
        raise ConfigError(
            f"{named}: several videos, a folder or a list need --out RESULTS.jsonl (one JSON line per video)"
        )
    if args.out_video and not single:
        raise ConfigError(f"{named}: --out-video draws the labels of one video; give one video")
    inferencer = build_inferencer(args)
    if single and args.out is None:
        prediction = inferencer.predict_video(args.inputs[0], features=args.features)
        width = max(len(c.label) for c in prediction.top_k)
        for c in prediction.top_k:
            print(f"{c.label:<{width}}  {c.score:.4f}")
        if args.features and prediction.features is not None:
            print(json.dumps({"features": [round(float(v), 6) for v in prediction.features]}))
        if args.out_video:
            from action_core.engine.overlay import write_overlay_video

            write_overlay_video(args.inputs[0], args.out_video, prediction.pairs())
            print(f"wrote {args.out_video}", file=sys.stderr)
        return 0
    from action_core.apps.batch import predict_batch

    summary = predict_batch(
        inferencer,
        args.inputs,
        args.out,
        root=args.root,
        overwrite=args.overwrite,
        workers=args.workers,
        top_k=args.top_k,
        features=args.features,
        progress=not args.no_progress,
    )
    print(summary, file=sys.stderr)
    print(f"results: {args.out}", file=sys.stderr)
    if summary.predicted == 0 and summary.skipped and not summary.already_done:
        print("action-run: error: no video could be read (see the reasons above)", file=sys.stderr)
        return 1
    return 0


def timeline_main(argv: list[str]) -> int:
    """Labels over time in a long video: a JSON document, a PNG and optionally a labelled copy."""
    parser = argparse.ArgumentParser(
        prog="action-run timeline",
        description="Label a long video over time: the model runs on sliding windows (its own sampling inside "
        "each), scores are smoothed and turned into per-class segments. Writes a JSON document "
        "(schema action-timeline/1, see docs/apps.md), a PNG of the score curves and segments, and with "
        "--out-video a labelled copy. The video is decoded once, in constant memory.",
    )
    parser.add_argument("video", help="the video file")
    add_model_arguments(parser)
    parser.add_argument(
        "--window",
        help="window length in frames (16) or seconds (2s, 500ms); default one clip of a clip model, 2 s for "
        "segment models (TSN, TSM)",
    )
    parser.add_argument(
        "--stride", help="step between windows, frames or seconds (default: a quarter window)"
    )
    parser.add_argument(
        "--smooth", type=int, default=3, help="windows in the centred moving average of the scores (1: none)"
    )
    parser.add_argument(
        "--threshold",
        action="append",
        metavar="P_OR_LABEL=P",
        help="smoothed score from which a class counts as present: a number for every class and/or "
        "LABEL=NUMBER for one class (repeatable; default 0.5)",
    )
    parser.add_argument(
        "--merge-gap", type=float, default=0.5, help="merge a class's segments closer than this (seconds)"
    )
    parser.add_argument(
        "--min-length", type=float, default=0.0, help="drop segments shorter than this (seconds)"
    )
    parser.add_argument(
        "--out", help="the JSON document (default: VIDEO_STEM.timeline.json in the current folder)"
    )
    parser.add_argument("--plot", help="the PNG (default: the --out name with .png; 'none' to skip)")
    parser.add_argument(
        "--scores", action="store_true", help="also write every window's smoothed class scores"
    )
    parser.add_argument("--out-video", help="write a copy of the video with each moment's labels drawn on it")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds a read of the video may stall before failing"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    from pathlib import Path

    from action_core.apps.timeline import auto_views, make_timeline, write_timeline_video

    out = Path(args.out) if args.out else Path(f"{Path(args.video).stem}.timeline.json")
    inferencer = build_inferencer(args)
    if args.views is None:
        inferencer = inferencer.with_views(auto_views(inferencer.pipeline_steps))
    timeline = make_timeline(
        inferencer,
        args.video,
        window=args.window,
        stride=args.stride,
        smooth=args.smooth,
        thresholds=args.threshold,
        merge_gap=args.merge_gap,
        min_length=args.min_length,
        top_k=args.top_k,
        timeout=args.timeout,
        progress=not args.no_progress,
    )
    timeline.write_json(out, scores=args.scores)
    written = [str(out)]
    if (args.plot or "").lower() != "none":
        written.append(str(timeline.plot(args.plot or out.with_suffix(".png"))))
    if args.out_video:
        written.append(str(write_timeline_video(timeline, args.video, args.out_video)))
    print(
        f"{timeline.source}: {timeline.duration:.1f} s, {len(timeline.starts)} windows of "
        f"{timeline.window_frames} frames every {timeline.stride_frames}, {len(timeline.segments)} segments"
    )
    for segment in timeline.segments:
        print(f"  {segment.start:9.2f} - {segment.end:9.2f} s  {segment.label}  {segment.score:.3f}")
    print("wrote " + ", ".join(written), file=sys.stderr)
    return 0


def live_main(argv: list[str]) -> int:
    """Labels on a camera, a network stream or a file played in real time."""
    parser = argparse.ArgumentParser(
        prog="action-run live",
        description="Label a live stream as it arrives: a ring buffer keeps the last window, the model runs "
        "on the newest window at a bounded rate and frames are dropped rather than falling behind. Prints "
        "each top-k with its latency; stops at the end of the stream or on Ctrl-C.",
    )
    parser.add_argument(
        "--source",
        required=True,
        help="a camera (0, /dev/video2), a stream URL (rtsp://, http://, udp://, ...) or a video file",
    )
    add_model_arguments(parser)
    parser.add_argument(
        "--realtime", action="store_true", help="play a file at its frame rate, as a camera would deliver it"
    )
    parser.add_argument("--window", help="window in frames (16) or seconds (2s); default as for timeline")
    parser.add_argument("--rate", type=float, default=4.0, help="most predictions per second (default 4)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds without data before the stream counts as lost (default 10)",
    )
    parser.add_argument("--max-seconds", type=float, help="stop after this many seconds of stream")
    parser.add_argument(
        "--out", metavar="LABELS.jsonl", help="write one JSON line per prediction: time, top-k, latency"
    )
    parser.add_argument("--out-video", help="write the stream with the current labels drawn on it")
    parser.add_argument(
        "--format", help="input format when FFmpeg cannot guess it (v4l2, dshow, mpegts, ...)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an FFmpeg input option, e.g. --option rtsp_transport=tcp (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print each prediction")
    args = parser.parse_args(argv)
    from action_core.apps.live import run_live
    from action_core.apps.timeline import auto_views

    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--option {item!r}: expected KEY=VALUE")
        options[key] = value
    inferencer = build_inferencer(args)
    if args.views is None:
        inferencer = inferencer.with_views(auto_views(inferencer.pipeline_steps))
    from action_core.video.stream import StreamError

    try:
        summary = run_live(
            inferencer,
            args.source,
            window=args.window,
            rate=args.rate,
            realtime=args.realtime,
            timeout=args.timeout,
            max_seconds=args.max_seconds,
            top_k=args.top_k,
            out_jsonl=args.out,
            out_video=args.out_video,
            format=args.format,
            options=options,
            echo=None if args.quiet else (lambda line: print(line, flush=True)),
        )
    except StreamError as e:
        partial = getattr(e, "summary", None)
        if partial is not None:
            print(partial, file=sys.stderr)
        raise
    print(summary, file=sys.stderr)
    return 0
