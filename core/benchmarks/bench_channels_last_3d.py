"""Channels-last against contiguous for fp32 inference of clip (NCTHW) models, side by side in one process.

For each preset: its backbone (random weights, nothing downloaded) with batch norms folded as ``action-run
test`` folds them, on a batch of the test pipeline's input shape, timed in both memory formats in
alternation (median of ``--iters`` rounds, wall and process CPU seconds). The allocator keeps freed memory
(``keep_freed_memory``, as training and testing do). This is the measurement behind ``channels_last =
"auto"`` for 3D models in ``action_core.hardware``; run it on another CPU kind before extending that choice.

    .venv/bin/python core/benchmarks/bench_channels_last_3d.py --batch-size 4 PRESET [PRESET ...]
"""

from __future__ import annotations

import argparse
import copy
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch

import action_core as ac
from action_core.api import ExperimentConfig, load_source
from action_core.data import keep_freed_memory
from action_core.data.datasets import VideoDataset
from action_core.data.records import VideoRecord
from action_core.datasets.synth import write_video
from action_core.engine.builders import build_model_from_config
from action_core.models.compose import without_downloads
from action_core.models.fuse import fold_batchnorm


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _input_shape(cfg: ExperimentConfig, video: str) -> tuple[int, ...]:
    item = VideoDataset([VideoRecord(video)], cfg.data.test.pipeline, test_mode=True)[0]
    return tuple(item["inputs"].shape[1:])  # one view


def measure(
    preset: str, video: str, batch_size: int, iters: int
) -> tuple[tuple[int, ...], dict[str, tuple[float, float]]]:
    """The batch's shape and the median (wall s, CPU s) of the folded backbone per memory format."""
    data = load_source(preset)
    data["model"] = without_downloads(data["model"])
    cfg = ExperimentConfig.from_dict(data)
    backbone = build_model_from_config(cfg).eval().backbone
    assert isinstance(backbone, torch.nn.Module)
    x = torch.randn(batch_size, *_input_shape(cfg, video))
    with torch.no_grad():
        folded, _ = fold_batchnorm(backbone, lambda m: m(x[:1]))
    from action_core.engine.fastpath import convert_memory_format

    last = convert_memory_format(copy.deepcopy(folded))
    runs = {
        "contiguous": (folded, x),
        "channels_last": (last, x.contiguous(memory_format=torch.channels_last_3d)),
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    with torch.inference_mode():
        for module, inputs in runs.values():
            module(inputs)  # warm-up: oneDNN primitives are created on the first call
        for _ in range(iters):
            for name, (module, inputs) in runs.items():
                cpu, wall = _cpu_seconds(), time.perf_counter()
                module(inputs)
                times[name].append((time.perf_counter() - wall, _cpu_seconds() - cpu))
    medians = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()
    }
    return tuple(x.shape), medians


def main() -> None:
    """Print one row per preset: both formats' wall / CPU seconds and the channels-last speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("presets", nargs="+", help="presets of clip models (NCTHW input)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tuned = keep_freed_memory()
    ac.get_host().load_all()
    flags = Path("/proc/cpuinfo").read_text().split()
    units = sorted({f for f in flags if f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")})
    model = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    name = next(
        (ln.split(":", 1)[1].strip() for ln in model.splitlines() if ln.startswith("Model name")), "?"
    )
    print(f"CPU: {name}; vector units: {' '.join(units)}; {args.threads} threads; torch {torch.__version__}; "
          f"freed memory kept: {tuned}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        video = write_video(Path(folder) / "clip.mp4", num_frames=300, width=340, height=256)
        print(
            "| preset | input | contiguous wall s / CPU s | channels-last wall s / CPU s | speed-up wall, CPU |"
        )
        print("|---|---|---|---|---|")
        for preset in args.presets:
            dims, m = measure(preset, video, args.batch_size, args.iters)
            (cw, cc), (lw, lc) = m["contiguous"], m["channels_last"]
            shape = "x".join(map(str, dims))
            print(f"| {preset} | {shape} | {cw:.2f} / {cc:.2f} | {lw:.2f} / {lc:.2f} | {cw / lw:.2f}x, {cc / lc:.2f}x |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
