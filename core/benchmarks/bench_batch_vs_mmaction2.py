"""Batch prediction over many short videos against a loop over MMAction2 1.2.0's ``inference_recognizer``.

Issue #20's bar: over 200 short videos on 2 CPU cores, ``predict_batch`` (what ``action-run predict DIR
--out results.jsonl`` runs: decoding in DataLoader workers, clips of several videos in one forward pass)
reaches at least twice the videos/s of ``for video in videos: inference_recognizer(model, video)`` with the
same model and the same test pipeline, measured side by side.

The model is TSM-MobileNetV2 (8 segments, 400 classes) with random weights on both sides (speed does not
depend on the values): ours from the preset ``tsm_mobilenetv2_1x1x8_100e_kinetics400_rgb`` with
its ``ThreeCrop`` swapped for ``CenterCrop``, MMAction2's from its bundled config
``tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py`` changed the same way: 8 frames sampled in test mode, decoded, resized to short side 256, one 256x256
centre crop, normalised. A light model, so decoding and the model both weigh in the time.

Our side runs in this process; MMAction2's runs in a child process of ``--side-python`` (an environment with
MMAction2 1.2.0; default ``$SIDE/bin/python``). MMAction2 decodes with PyAV by default (``PyAVInit`` /
``PyAVDecode``, the library ours uses); ``--mm-decoder decord`` gives it its config's own decord instead,
found in the environment of ``--decord-python`` (default the side interpreter). Both sides use 2 intra-op
threads; model building and one warm-up video are outside the timed part. The order alternates across
``--repeats``. Prints videos/s of each run, the totals and the ratio ours / MMAction2's.

    SIDE=/path/to/mmaction-venv .venv/bin/python core/benchmarks/bench_batch_vs_mmaction2.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import av
import numpy as np

PRESET = "tsm_mobilenetv2_1x1x8_100e_kinetics400_rgb"
MM_CONFIG = "recognition/tsm/tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py"

# The MMAction2 loop, run by the side interpreter: argv = config path, video list file, decoder, threads,
# extra sys.path entry ("" for none). Prints one JSON line.
MM_CHILD = r"""
import json, sys, time
config_path, list_path, decoder, threads, extra = sys.argv[1:6]
if extra:
    sys.path.append(extra)
import torch
torch.set_num_threads(int(threads))
import mmaction.utils.dependency as dependency
dependency.WITH_MULTIMODAL = False  # transformers 5 breaks mmaction.models' multimodal imports
from mmengine.config import Config
from mmaction.apis import inference_recognizer, init_recognizer
if decoder == "decord":
    import decord  # noqa: F401  (fail here, clearly, when it is missing)
cfg = Config.fromfile(config_path)
init, decode = ("DecordInit", "DecordDecode") if decoder == "decord" else ("PyAVInit", "PyAVDecode")
pipeline = []
for step in cfg.test_pipeline:
    step = dict(step)
    if step["type"] in ("DecordInit", "PyAVInit", "OpenCVInit"):
        step = {"type": init}
    elif step["type"] in ("DecordDecode", "PyAVDecode", "OpenCVDecode"):
        step = {"type": decode}
    elif step["type"] in ("ThreeCrop", "TenCrop"):
        step = {"type": "CenterCrop", "crop_size": step["crop_size"]}
    pipeline.append(step)
cfg.test_pipeline = pipeline
cfg.model.backbone.pretrained = None
model = init_recognizer(cfg, checkpoint=None, device="cpu")
videos = open(list_path).read().split("\n")
inference_recognizer(model, videos[0])  # warm-up
start, cpu = time.perf_counter(), time.process_time()
for video in videos:
    result = inference_recognizer(model, video)
    assert result.pred_score.numel() == 400
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"videos": len(videos), "seconds": seconds, "cpu": cpu, "pipeline": [s["type"] for s in pipeline]}))
"""


def make_videos(folder: Path, count: int, seconds: float, fps: int, width: int, height: int) -> list[Path]:
    """``count`` H.264 clips (x264 defaults, yuv420p) of moving gradients, each a little different."""
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:height, 0:width]
    paths = []
    for n in range(count):
        path = folder / f"v{n:04d}.mp4"
        paths.append(path)
        if path.exists():
            continue
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for i in range(round(seconds * fps)):
                t = i + 7 * n
                frame = np.stack([(xx + 3 * t) % 256, (yy + 2 * t) % 256, (xx + yy + t + n) % 256], -1)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame.astype(np.uint8), "rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return paths


def run_ours(inferencer: object, folder: Path, out: Path, workers: int | None) -> dict[str, float]:
    """``predict_batch`` over the folder into a fresh ``out``: videos, wall seconds, CPU seconds (this
    process only; the decoding workers' time is not in it)."""
    from action_core.api import predict_batch

    start, cpu = time.perf_counter(), time.process_time()
    summary = predict_batch(inferencer, [folder], out, overwrite=True, workers=workers)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if summary.skipped:
        raise SystemExit(f"our side skipped videos: {summary.skipped}")
    return {"videos": summary.predicted, "seconds": seconds, "cpu": cpu}


def run_mmaction2(
    side_python: str, config: Path, video_list: Path, decoder: str, threads: int, extra: str, child: Path
) -> dict[str, float]:
    """The MMAction2 loop in a child process of ``side_python``."""
    command = [side_python, str(child), str(config), str(video_list), decoder, str(threads), extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the MMAction2 side failed ({' '.join(command)}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_paths(side_python: str, decoder: str, decord_python: str | None) -> tuple[Path, str]:
    """MMAction2's config file in the side environment, and the folder holding decord to append to its
    ``sys.path`` ("" when the side environment has decord itself or it is not wanted)."""
    query = "import os, mmaction; print(os.path.join(os.path.dirname(mmaction.__file__), '.mim', 'configs'))"
    done = subprocess.run([side_python, "-c", query], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side_python} cannot import mmaction; give --side-python or $SIDE:\n{done.stderr}")
    config = Path(done.stdout.strip()) / MM_CONFIG
    if not config.is_file():
        raise SystemExit(f"{config} is missing: is the side environment MMAction2 1.2.0?")
    extra = ""
    if decoder == "decord":
        finder = "import os, decord; print(os.path.dirname(os.path.dirname(decord.__file__)))"
        for python in [side_python] + ([decord_python] if decord_python else []):
            found = subprocess.run([python, "-c", finder], capture_output=True, text=True, check=False)
            if found.returncode == 0:
                extra = "" if python == side_python else found.stdout.strip()
                break
        else:
            raise SystemExit(
                "no decord in the side environment; give --decord-python or use --mm-decoder pyav"
            )
    return config, extra


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_side = os.path.join(os.environ["SIDE"], "bin", "python") if os.environ.get("SIDE") else None
    parser.add_argument("--side-python", default=default_side, help="interpreter with MMAction2 1.2.0")
    parser.add_argument(
        "--videos", type=Path, help="folder for the test videos (made once; default a temp one)"
    )
    parser.add_argument("--count", type=int, default=200, help="number of videos")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each video")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each side, order alternating")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads on both sides")
    parser.add_argument("--workers", type=int, default=None, help="our decoding workers (default ours)")
    parser.add_argument("--batch-size", type=int, default=None, help="our clips per forward pass")
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="our model in channels-last (Inferencer(channels_last=True))",
    )
    parser.add_argument("--mm-decoder", choices=["pyav", "decord"], default="pyav")
    parser.add_argument("--decord-python", help="an interpreter whose environment has decord")
    args = parser.parse_args()
    if not args.side_python:
        parser.error("give --side-python or set $SIDE to the MMAction2 environment")

    import torch

    torch.set_num_threads(args.threads)
    from action_core.api import Inferencer, build_model_from_config, load_experiment

    config, extra = side_paths(args.side_python, args.mm_decoder, args.decord_python)
    # One 256x256 centre crop instead of the preset's ThreeCrop. Not ``views="1x1"``: that sets the
    # sampler's num_clips to 1, while a TSM model needs its 8 segments.
    overrides = ["model.args.pretrained=false", "data.test.pipeline.3.type=CenterCrop"]
    cfg = load_experiment(PRESET, overrides)
    if [s["type"] for s in cfg.data.test.pipeline][3] != "CenterCrop":
        raise SystemExit(f"{PRESET}'s test pipeline changed; fix the crop override")
    inferencer = Inferencer(
        build_model_from_config(cfg),
        cfg,
        device="cpu",
        amp="none",
        batch_size=args.batch_size,
        channels_last=True if args.channels_last else "auto",
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = args.videos or tmp / "videos"
        made = time.perf_counter()
        videos = make_videos(folder, args.count, args.seconds, 25, 320, 240)
        print(
            f"{len(videos)} videos of {args.seconds:g} s, 320x240 at 25 fps, H.264, in {folder} "
            f"({time.perf_counter() - made:.0f} s to make)"
        )
        video_list = tmp / "videos.txt"
        video_list.write_text("\n".join(str(v) for v in videos))
        child = tmp / "mm_child.py"
        child.write_text(MM_CHILD)
        inferencer.predict_video(videos[0])  # warm-up, as the MMAction2 side does
        steps = [s["type"] for s in inferencer.pipeline_steps]
        print(f"ours: {inferencer!r}, channels_last={inferencer.channels_last}, pipeline {steps}")
        print(f"MMAction2: {config.name}, decoder {args.mm_decoder}; load average {os.getloadavg()}")
        totals = {"ours": [0, 0.0], "mmaction2": [0, 0.0]}
        for repeat in range(args.repeats):
            sides = ["ours", "mmaction2"] if repeat % 2 == 0 else ["mmaction2", "ours"]
            for side in sides:
                if side == "ours":
                    result = run_ours(inferencer, folder, tmp / "results.jsonl", args.workers)
                else:
                    result = run_mmaction2(
                        args.side_python, config, video_list, args.mm_decoder, args.threads, extra, child
                    )
                totals[side][0] += result["videos"]
                totals[side][1] += result["seconds"]
                print(
                    f"repeat {repeat} {side:>9}: {result['videos']} videos in {result['seconds']:.1f} s = "
                    f"{result['videos'] / result['seconds']:.2f} videos/s (main-process CPU {result['cpu']:.1f} s)"
                    f"; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        ours = totals["ours"][0] / totals["ours"][1]
        theirs = totals["mmaction2"][0] / totals["mmaction2"][1]
        print(
            f"ours {ours:.2f} videos/s, MMAction2 loop {theirs:.2f} videos/s, ratio {ours / theirs:.2f} (bar >= 2)"
        )


if __name__ == "__main__":
    main()
