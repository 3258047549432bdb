"""Speed measurements: the data pipeline against a naive PyAV decoder, and training / inference steps.

``bench_data`` runs each clip through the dataset's real pipeline (sampler, ``DecodeFrames``, transforms) and
then through a naive baseline that decodes the same video from its first frame up to the last frame the
pipeline sampled (PyAV, one thread, no seeking: what a straightforward decoder does), followed by the same
transforms with the same random parameters. Clips alternate between the two, so machine load hits both
alike. Reported: clips/s by wall-clock and by CPU time, frames decoded per clip, and the ratio.

``bench_steps`` times training steps (forward, loss, backward, optimiser step) *including* the time to get the
batch from the loader, which is what MMAction2 publishes as s/iter, or inference forwards (clips/s); the
first ``warmup`` iterations are dropped and the median of the rest is reported. A reference model (for
example MMAction2's, see :func:`build_mmaction2_reference`) can be timed on the same batches in the same
loop, the order of the two flipping every iteration.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn

from action_core.errors import ActionError

__all__ = [
    "MMACTION2_CONFIGS",
    "BenchError",
    "DataBenchResult",
    "StepBenchResult",
    "StepTimes",
    "bench_data",
    "bench_steps",
    "build_mmaction2_reference",
    "calibrate_peak",
    "check_mmaction2",
    "count_step_flops",
    "convert_memory_format",
    "fold_for_bench",
    "input_shape_from_pipeline",
    "make_infer_step",
    "make_train_step",
    "naive_decode",
    "synthetic_batches",
    "video_records",
]

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv"})


class BenchError(ActionError, ValueError):
    """A benchmark cannot run with the given config, dataset or options."""


# ---------------------------------------------------------------------------------------------- data


@attrs.frozen
class DataBenchResult:
    """What :func:`bench_data` measured (times summed over the timed clips)."""

    clips: int
    frames_per_clip: float  # frames the pipeline returned per clip
    pipeline_wall: float
    pipeline_cpu: float
    naive_wall: float
    naive_cpu: float
    pipeline_decoded: float  # frames decoded per clip by the pipeline's reader
    naive_decoded: float  # frames decoded per clip by the baseline (first frame .. last sampled one)
    same_output: int  # clips whose final tensors are identical between the two

    @property
    def pipeline_clips_per_s(self) -> float:
        """Clips per wall-clock second through the real pipeline."""
        return self.clips / self.pipeline_wall

    @property
    def naive_clips_per_s(self) -> float:
        """Clips per wall-clock second through the naive baseline."""
        return self.clips / self.naive_wall

    @property
    def speedup(self) -> float:
        """Baseline time / pipeline time, by wall-clock (> 1: the pipeline is faster)."""
        return self.naive_wall / self.pipeline_wall

    @property
    def cpu_speedup(self) -> float:
        """Baseline CPU time / pipeline CPU time (steadier than wall-clock on a busy machine)."""
        return self.naive_cpu / self.pipeline_cpu

    def render(self) -> str:
        """A small table of both sides and the ratio."""
        rows = [
            ("pipeline", self.pipeline_wall, self.pipeline_cpu, self.pipeline_decoded),
            ("naive PyAV", self.naive_wall, self.naive_cpu, self.naive_decoded),
        ]
        lines = [f"{'decoder':<11} {'clips/s':>9} {'clips/s cpu':>12} {'decoded/clip':>13}"]
        for name, wall, cpu, decoded in rows:
            lines.append(f"{name:<11} {self.clips / wall:>9.2f} {self.clips / cpu:>12.2f} {decoded:>13.1f}")
        lines.append(
            f"ratio pipeline/naive clips/s: {self.speedup:.2f}x wall, {self.cpu_speedup:.2f}x cpu; "
            f"{self.clips} clips of {self.frames_per_clip:.0f} frames; identical outputs "
            f"{self.same_output}/{self.clips}"
        )
        return "\n".join(lines)


def naive_decode(path: str, indices: Sequence[int]) -> tuple[torch.Tensor, int]:
    """Frames ``indices`` of ``path`` by decoding from the first frame on (no seeking), as uint8 (T, C, H, W)
    RGB in the order asked; also the number of frames decoded (last index + 1, or fewer at the end)."""
    import av

    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    if wanted.size == 0:
        raise BenchError(f"no frame indices to decode from {path!r}")
    last = int(wanted.max())
    need = set(wanted.tolist())
    got: dict[int, np.ndarray] = {}
    decoded = 0
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if decoded in need:
                    got[decoded] = frame.to_ndarray(format="rgb24")
                decoded += 1
                if decoded > last:
                    break
    except (OSError, av.error.FFmpegError) as e:
        raise BenchError(f"naive baseline cannot decode {path!r}: {e}") from e
    missing = sorted(need - set(got))
    if missing:
        raise BenchError(
            f"naive baseline decoded {decoded} frames of {path!r} but the pipeline sampled frames up to "
            f"{last} (missing {missing[:5]}); the file's frame count and its decodable frames differ"
        )
    arrays = np.stack([got[int(i)] for i in wanted])
    return torch.from_numpy(arrays).permute(0, 3, 1, 2).contiguous(), decoded


def video_records(folder: str | Path) -> list[Any]:
    """A :class:`~action_core.data.VideoRecord` (label 0) for every video file under ``folder``, sorted."""
    from action_core.data import VideoRecord

    root = Path(folder)
    if not root.is_dir():
        raise BenchError(f"--videos {str(folder)!r} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not files:
        raise BenchError(
            f"no video files ({', '.join(sorted(VIDEO_SUFFIXES))}) under {str(folder)!r}; point --videos at "
            "a folder of videos"
        )
    return [VideoRecord(str(p), 0) for p in files]


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _split_at_decode(dataset: Any) -> tuple[list[Callable], list[Callable]]:
    from action_core.data import Compose, DecodeFrames

    pipeline = getattr(dataset, "pipeline", None)
    if not isinstance(pipeline, Compose):
        raise BenchError(
            f"bench data needs a dataset whose pipeline is a list of steps; {type(dataset).__name__}'s is "
            f"{type(pipeline).__name__}"
        )
    for k, step in enumerate(pipeline.steps):
        if isinstance(step, DecodeFrames):
            return pipeline.steps[: k + 1], pipeline.steps[k + 1 :]
    raise BenchError("the pipeline has no DecodeFrames step; bench data compares decoding strategies")


def _media_results(dataset: Any, index: int, media_options: Mapping[str, Any]) -> dict[str, Any]:
    make = getattr(dataset, "_results", None)
    records = getattr(dataset, "records", None)
    if make is None or records is None:
        raise BenchError(
            f"bench data needs a record dataset (VideoDataset); got {type(dataset).__name__}, which has no "
            "records to run the pipeline on"
        )
    results = make(records[index])
    if "filename" not in results:
        raise BenchError(
            "bench data compares video decoders, but this dataset reads frame folders; use a video dataset "
            "or --videos FOLDER"
        )
    if media_options:
        results["media_options"] = dict(media_options)
    return results


def _run(steps: Sequence[Callable], results: dict[str, Any] | None) -> dict[str, Any] | None:
    for step in steps:
        if results is None:
            return None
        results = step(results)
    return results


def bench_data(dataset: Any, *, clips: int = 40, warmup: int = 2, seed: int = 0) -> DataBenchResult:
    """Time ``clips`` clips of ``dataset`` through its pipeline and through the naive PyAV baseline.

    The dataset must be a record dataset of videos (``VideoDataset``, or one built from a config) whose
    pipeline contains ``DecodeFrames``. Clips cycle through the dataset in a seeded random order; each
    clip's transforms after decoding get the same random state on both sides, so outputs are identical
    whenever the decoded frames are (``same_output``; they differ in decode-time downscale or where the
    pipeline's fast sampling picked other frames than a sampler would - never in exact mode).
    """
    from action_core.data.decode import open_media, start_index_of

    if clips < 1:
        raise BenchError(f"clips must be >= 1, got {clips}")
    if len(dataset) == 0:
        raise BenchError("the dataset is empty; nothing to benchmark")
    pre, post = _split_at_decode(dataset)
    options = dataset.pipeline.media_options
    order = np.random.default_rng(seed).permutation(max(clips + warmup, len(dataset))) % len(dataset)
    totals = dict.fromkeys(("pw", "pc", "nw", "nc", "pd", "nd", "frames"), 0.0)
    same = 0
    for i in range(warmup + clips):
        index = int(order[i])
        clip_seed = seed * 1_000_003 + i
        # Real pipeline: the reader is opened here (as the sampler would) only to keep its decode statistics.
        results = _media_results(dataset, index, options)
        _seed_all(clip_seed)
        t0, c0 = time.perf_counter(), time.process_time()
        reader = open_media(results)
        try:
            out = _run(pre, results)
            if out is not None:
                _seed_all(clip_seed + 1)
                out = _run(post, out)
        finally:
            reader.close()  # DecodeFrames closed it already unless a step failed
        t1, c1 = time.perf_counter(), time.process_time()
        if out is None:
            raise BenchError(f"the pipeline dropped sample {index}; bench data needs every clip")
        pipe_decoded = int(reader.last_stats.frames_decoded)
        # Naive baseline: the same absolute frames, decoded from the start, then the same transforms.
        inds = np.asarray(out["frame_inds"], dtype=np.int64).reshape(-1)
        absolute = inds - start_index_of(out) + int(out.get("frame_offset", 0))
        base = _media_results(dataset, index, {})
        for key in ("frame_inds", "clip_len", "frame_interval", "num_clips", "total_frames", "frame_offset"):
            if key in out:
                base[key] = out[key]
        t2, c2 = time.perf_counter(), time.process_time()
        imgs, naive_decoded = naive_decode(base["filename"], [int(i) for i in absolute])
        base.update(imgs=imgs, img_shape=tuple(imgs.shape[-2:]), original_shape=tuple(imgs.shape[-2:]))
        base.setdefault("num_crops", 1)
        _seed_all(clip_seed + 1)
        base_out = _run(post, base)
        t3, c3 = time.perf_counter(), time.process_time()
        if i < warmup:
            continue
        a, b = out["imgs"], base_out["imgs"] if base_out is not None else None
        same += int(b is not None and a.shape == b.shape and torch.equal(a, b))
        totals["pw"] += t1 - t0
        totals["pc"] += c1 - c0
        totals["nw"] += t3 - t2
        totals["nc"] += c3 - c2
        totals["pd"] += pipe_decoded
        totals["nd"] += naive_decoded
        totals["frames"] += absolute.size
    return DataBenchResult(
        clips=clips,
        frames_per_clip=totals["frames"] / clips,
        pipeline_wall=totals["pw"],
        pipeline_cpu=max(totals["pc"], 1e-9),
        naive_wall=totals["nw"],
        naive_cpu=max(totals["nc"], 1e-9),
        pipeline_decoded=totals["pd"] / clips,
        naive_decoded=totals["nd"] / clips,
        same_output=same,
    )


# ---------------------------------------------------------------------------------------------- steps


_SIZE_KEYS = {
    "RandomCrop": "size",
    "CenterCrop": "crop_size",
    "ThreeCrop": "crop_size",
    "TenCrop": "crop_size",
    "MultiScaleCrop": "input_size",
}


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def input_shape_from_pipeline(
    pipeline: Sequence[Mapping[str, Any]], model: nn.Module, *, batch_size: int
) -> tuple[int, ...]:
    """The (N, ...) shape of one view per sample that ``pipeline`` feeds ``model``: frames from the sampler
    (clip_len x num_clips for 2D models, clip_len for 3D), height/width from the last crop or fixed resize."""
    from action_core.tools.flops import default_input_shape

    fallback = default_input_shape(model)
    fmt = getattr(model, "input_format", "NCTHW")
    frames = fallback[1] if fmt == "NTCHW" else fallback[2]
    height = width = fallback[-1]
    for step in pipeline:
        kind = step.get("type")
        if kind in {"SampleFrames", "DenseSampleFrames", "SegmentSampleFrames"}:
            clip_len, num_clips = int(step.get("clip_len", 1)), int(step.get("num_clips", 1))
            frames = clip_len * num_clips if fmt == "NTCHW" else clip_len
        elif kind == "UniformSample" or kind == "UniformSampleFrames":
            frames = int(step.get("clip_len", step.get("num_segments", frames)))
        elif kind in _SIZE_KEYS and _SIZE_KEYS[kind] in step:
            height, width = _pair(step[_SIZE_KEYS[kind]])
        elif kind == "Resize" and step.get("keep_ratio") is False:
            w, h = _pair(step["scale"])
            height, width = h, w
    if fmt == "NTCHW":
        return (batch_size, frames, 3, height, width)
    return (batch_size, 3, frames, height, width)


@attrs.frozen
class StepTimes:
    """Per-iteration seconds of one implementation after warm-up."""

    name: str
    seconds: tuple[float, ...]
    data_seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...] = ()  # process CPU time of the step (all threads), data excluded

    @property
    def median(self) -> float:
        """Median seconds per iteration, data loading included."""
        return statistics.median(self.seconds)

    @property
    def data_median(self) -> float:
        """Median seconds per iteration spent waiting for the batch."""
        return statistics.median(self.data_seconds)

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds of the step itself (summed over threads; steadier on a busy machine)."""
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")


@attrs.frozen
class StepBenchResult:
    """What :func:`bench_steps` measured."""

    mode: str  # "train" | "infer"
    device: str
    amp: str
    channels_last: bool
    batch_size: int
    input_shape: tuple[int, ...]
    samples_per_iter: int  # clips (views) per iteration
    times: tuple[StepTimes, ...]  # ours first, then the reference if any
    threads: int
    flops: tuple[
        int | None, ...
    ] = ()  # FLOPs of one iteration of each implementation (fwd + bwd in training)
    peak: Mapping[str, float] = attrs.field(factory=dict)  # calibrated GFLOP/s of the device

    def render(self) -> str:
        """Settings, then one row per implementation; with a reference, the ratio."""
        fmt = "channels_last" if self.channels_last else "contiguous"
        precision = "fp32" if self.amp == "none" else f"{self.amp} autocast"
        width = max([len(t.name) for t in self.times] + [24])
        lines = [
            f"{self.mode}: device {self.device} ({self.threads} threads), precision {precision}, memory format "
            f"{fmt}, batch size {self.batch_size}, input {tuple(self.input_shape)}, median of "
            f"{len(self.times[0].seconds)} iterations after warm-up",
            f"{'model':<{width}} {'s/iter':>8} {'data s/iter':>12} {'clips/s':>9} {'step cpu s':>11}",
        ]
        peak = max(self.peak.values(), default=0.0)
        if self.flops:
            lines[-1] += f" {'GFLOP/s':>9} {'of peak':>8}"
        for k, t in enumerate(self.times):
            line = (
                f"{t.name:<{width}} {t.median:>8.4f} {t.data_median:>12.4f} {self.samples_per_iter / t.median:>9.2f}"
                f" {t.cpu_median:>11.3f}"
            )
            flops = self.flops[k] if k < len(self.flops) else None
            if flops:
                achieved = flops / t.median / 1e9
                line += f" {achieved:>9.1f} {f'{achieved / peak:.0%}' if peak else '-':>8}"
            lines.append(line)
        if self.peak:
            measured = ", ".join(f"{k} {v:.1f}" for k, v in self.peak.items())
            precision = "fp32" if self.amp == "none" else self.amp
            per_iter = ", ".join(f"{f / 1e9:.1f} G" for f in self.flops if f)
            lines.append(
                f"calibrated peak ({precision}, {self.threads} threads): {measured} GFLOP/s; "
                f"FLOPs per iteration: {per_iter}"
            )
        # every implementation against the last one (the reference), then the first two against each other
        pairs = [(k, len(self.times) - 1) for k in range(len(self.times) - 1)]
        if len(self.times) > 2:
            pairs.append((0, 1))
        for a, b in pairs:
            ours, ref = self.times[a], self.times[b]
            lines.append(
                f"ratio s/iter {ours.name} / {ref.name}: {ours.median / ref.median:.3f} "
                f"(< 1: {ours.name} is faster; {ref.median / ours.median:.2f}x its speed); "
                f"step cpu ratio {ours.cpu_median / ref.cpu_median:.3f}"
            )
        return "\n".join(lines)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def convert_memory_format(model: nn.Module) -> nn.Module:
    """Parameters of 2D convolutions to ``channels_last``, of 3D convolutions to ``channels_last_3d``."""
    for param in model.parameters():
        if param.ndim == 4:
            param.data = param.data.contiguous(memory_format=torch.channels_last)
        elif param.ndim == 5:
            param.data = param.data.contiguous(memory_format=torch.channels_last_3d)
    return model


def fold_for_bench(
    net: nn.Module, batch: dict[str, Any], model: nn.Module, *, channels_last: bool, device: torch.device
) -> nn.Module:
    """``net`` with its batch norms folded as ``action-run test`` folds them, checked on the first sample of
    ``batch`` (laid out as ``model`` takes its inputs); prints what was folded."""
    from action_core.engine.inference import batch_inputs, fold_views, to_model_layout
    from action_core.models.fuse import fold_batchnorm

    inputs, _, _ = fold_views(batch_inputs(batch, device))
    example = to_model_layout(inputs[:1].contiguous(), model, channels_last)
    folded, report = fold_batchnorm(net, lambda m: m(example))
    print(report.describe())
    return folded


StepFn = Callable[[torch.Tensor, torch.Tensor], None]


def make_train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device,
    amp: str = "none",
    grad_clip: float | None = None,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> StepFn:
    """One training step as the trainer runs it: forward under autocast, loss on fp32 scores outside it,
    backward (scaled for fp16), optional gradient clipping, optimiser step. ``forward(inputs)`` and
    ``loss(scores, target)`` replace ``model(inputs)`` and ``model.loss`` (for reference models)."""
    import torch.nn.functional as F

    from action_core.engine.inference import autocast

    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    run = forward or model
    loss_fn = loss or getattr(model, "loss", None)
    if not callable(loss_fn):
        loss_fn = F.cross_entropy

    def step(inputs: torch.Tensor, target: torch.Tensor) -> None:
        model.train()
        with autocast(device, amp):
            scores = run(inputs)
        value = loss_fn(scores.float(), target)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(value).backward()
        if grad_clip is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(params, grad_clip)
        scaler.step(optimizer)
        scaler.update()

    return step


def make_infer_step(
    model: nn.Module,
    *,
    device: torch.device,
    amp: str = "none",
    forward: Callable[[torch.Tensor], Any] | None = None,
) -> StepFn:
    """One inference forward (eval mode, ``torch.inference_mode``, autocast); ``forward`` replaces
    ``model(inputs)`` (for reference models)."""
    from action_core.engine.inference import autocast

    run = forward or model

    def step(inputs: torch.Tensor, target: torch.Tensor) -> None:
        model.eval()
        with torch.inference_mode(), autocast(device, amp):
            run(inputs)

    return step


def bench_steps(
    steps: Sequence[tuple[str, StepFn]],
    batches: Iterator[Mapping[str, Any]],
    *,
    mode: str,
    device: torch.device,
    iters: int = 10,
    warmup: int = 3,
    amp: str = "none",
    channels_last: bool = False,
    layout: Callable[[torch.Tensor], torch.Tensor] = lambda x: x,
    roofline: bool = False,
) -> StepBenchResult:
    """Time ``steps`` (name, fn(inputs, target)) on batches ``{"inputs": (N, V, ...), "label": ...}`` from
    ``batches``. Each iteration takes one batch (timed: data loading) and runs every step on it, the order
    of the steps rotating each iteration; an implementation's s/iter is its step time plus the batch time.
    ``layout`` maps the folded (N*V, ...) inputs to the model's memory format. With ``roofline`` the FLOPs
    of each step are counted (on the first batch, untimed) and the device's peak is calibrated, so the
    result says how close to the hardware's limit each implementation runs."""
    from action_core.engine.inference import batch_inputs, fold_views

    if iters < 1 or warmup < 0:
        raise BenchError(f"need iters >= 1 and warmup >= 0, got iters={iters}, warmup={warmup}")
    seconds: list[list[float]] = [[] for _ in steps]
    cpu_seconds: list[list[float]] = [[] for _ in steps]
    data_seconds: list[float] = []
    shape: tuple[int, ...] = ()
    per_iter = 0
    flops: list[int | None] = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        try:
            batch = next(batches)
        except StopIteration as e:
            raise BenchError(f"the data ran out after {i} batches; lower --iters/--warmup") from e
        inputs, n, views = fold_views(batch_inputs(dict(batch), device))
        target = torch.as_tensor(batch["label"]).to(device, non_blocking=True)
        if views > 1:
            target = target.repeat_interleave(views, dim=0)
        inputs = layout(inputs)
        _sync(device)
        data = time.perf_counter() - t0
        shape, per_iter = tuple(inputs.shape), n * views
        if roofline and i == 0:
            flops = [count_step_flops(fn, inputs, target) for _, fn in steps]
        rotation = [(i + k) % len(steps) for k in range(len(steps))]
        for k in rotation:
            t1, c1 = time.perf_counter(), time.process_time()
            steps[k][1](inputs, target)
            _sync(device)
            if i >= warmup:
                seconds[k].append(time.perf_counter() - t1 + data)
                cpu_seconds[k].append(time.process_time() - c1)
        if i >= warmup:
            data_seconds.append(data)
    return StepBenchResult(
        mode=mode,
        device=str(device),
        amp=amp,
        channels_last=channels_last,
        batch_size=shape[0] if shape else 0,
        input_shape=shape,
        samples_per_iter=per_iter,
        times=tuple(
            StepTimes(name, tuple(s), tuple(data_seconds), tuple(c))
            for (name, _), s, c in zip(steps, seconds, cpu_seconds, strict=True)
        ),
        threads=torch.get_num_threads(),
        flops=tuple(flops),
        peak=calibrate_peak(device, amp=amp) if roofline else {},
    )


def calibrate_peak(device: torch.device, *, amp: str = "none", seconds: float = 1.0) -> dict[str, float]:
    """The GFLOP/s the device reaches on large dense work at precision ``amp``: a 2048x2048 matrix product
    and a ResNet-like 3x3 convolution (forward), each timed for about ``seconds``, best run: the roofline
    the training and inference steps are compared with."""
    from action_core.engine.inference import autocast

    generator = torch.Generator().manual_seed(0)
    a = torch.randn(2048, 2048, generator=generator).to(device)
    b = torch.randn(2048, 2048, generator=generator).to(device)
    x = torch.randn(8, 128, 56, 56, generator=generator).to(device)
    conv = nn.Conv2d(128, 128, 3, padding=1, bias=False).to(device)
    work: dict[str, tuple[Callable[[], Any], int]] = {
        "matmul": (lambda: a @ b, 2 * 2048**3),
        "conv": (lambda: conv(x), 2 * 8 * 128 * 128 * 9 * 56 * 56),
    }
    peak = {}
    with torch.inference_mode(), autocast(device, amp):
        for name, (fn, flops) in work.items():
            fn()
            _sync(device)
            best, spent = float("inf"), 0.0
            while spent < seconds:
                t = time.perf_counter()
                fn()
                _sync(device)
                elapsed = time.perf_counter() - t
                best, spent = min(best, elapsed), spent + elapsed
            peak[name] = flops / best / 1e9
    return peak


def count_step_flops(step: StepFn, inputs: torch.Tensor, target: torch.Tensor) -> int:
    """FLOPs of one call of ``step`` (forward and backward of a training step), by torch's FLOP counter."""
    from torch.utils.flop_counter import FlopCounterMode

    from action_core.tools.flops import flop_formulas

    counter = FlopCounterMode(display=False, custom_mapping=flop_formulas())
    with counter:
        step(inputs, target)
    return int(counter.get_total_flops())


def synthetic_batches(
    shape: Sequence[int], num_classes: int, *, seed: int = 0, multi_label: bool = False
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless batches ``{"inputs": (N, 1, ...) random normal, "label": ...}`` of one view per sample (one
    tensor made up front and reused, so data time is ~0)."""
    generator = torch.Generator().manual_seed(seed)
    n = int(shape[0])
    inputs = torch.randn((n, 1, *shape[1:]), generator=generator)
    if multi_label:
        label = (torch.rand((n, num_classes), generator=generator) > 0.5).float()
    else:
        label = torch.randint(0, num_classes, (n,), generator=generator)
    while True:
        yield {"inputs": inputs, "label": label}


# ---------------------------------------------------------------------------------------------- MMAction2


MMACTION2_CONFIGS: dict[str, str] = {
    "tsn_r50": "recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py",
    "tsn_r101": "recognition/tsn/tsn_imagenet-pretrained-r101_8xb32-1x1x8-100e_kinetics400-rgb.py",
    "tsm_r50": "recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py",
    "tsm_r101": "recognition/tsm/tsm_imagenet-pretrained-r101_8xb16-1x1x8-50e_sthv2-rgb.py",
    "tsm_mobilenetv2": "recognition/tsm/tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py",
    "i3d_r50": "recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py",
    "slowonly_r50": "recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py",
    "slowfast_r50": "recognition/slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py",
    "slowfast_r50_8x8": "recognition/slowfast/slowfast_r50_8xb8-8x8x1-256e_kinetics400-rgb.py",
    "r2plus1d_r34": "recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py",
}
"""Our model name → the MMAction2 1.x config (bundled with the ``mmaction`` package) of the same network."""


def _mmaction_missing(interpreter: str) -> BenchError:
    return BenchError(
        "--reference mmaction2: the 'mmaction' package (MMAction2 1.x) is not importable in this interpreter "
        f"({interpreter}). MMAction2 is never a dependency of this toolkit; install mmaction2, mmengine and "
        "mmcv into a separate environment and run action-run from there with this project's packages on "
        "PYTHONPATH (see docs/benchmarks-tools.md), or drop --reference"
    )


def check_mmaction2() -> None:
    """Raise :class:`BenchError` with what to do when ``mmaction`` cannot be imported."""
    import importlib.util
    import sys

    try:
        found = importlib.util.find_spec("mmaction") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _mmaction_missing(sys.executable)


def build_mmaction2_reference(
    model_type: str, *, num_classes: int, model_args: Mapping[str, Any]
) -> tuple[
    nn.Module, Callable[[torch.Tensor], torch.Tensor], Callable[..., torch.Tensor], Callable[..., Any]
]:
    """MMAction2's recognizer for our ``model_type`` (from its bundled config, no pretrained weights) and
    three functions on our (N*V, ...) one-view inputs: ``train_forward(inputs)`` (class scores as its
    ``loss()`` computes them), ``loss(scores, target)`` (its head's loss) and ``forward(inputs)`` (test-mode
    scores, for inference)."""
    check_mmaction2()
    if model_type not in MMACTION2_CONFIGS:
        raise BenchError(
            f"--reference mmaction2: no MMAction2 config is mapped to the model {model_type!r}; known: "
            f"{', '.join(sorted(MMACTION2_CONFIGS))}"
        )
    import mmaction
    import mmaction.utils.dependency

    # its multimodal models import names that transformers 5 removed; no recognizer needs them
    mmaction.utils.dependency.WITH_MULTIMODAL = False
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample
    from mmaction.utils import register_all_modules
    from mmengine.config import Config

    register_all_modules()
    path = Path(mmaction.__file__).parent / ".mim" / "configs" / MMACTION2_CONFIGS[model_type]
    if not path.is_file():
        raise BenchError(f"--reference mmaction2: the bundled config {str(path)!r} is missing")
    cfg = Config.fromfile(str(path)).model
    backbone = cfg.backbone
    for key in ("pretrained", "pretrained2d"):
        if key in backbone:
            backbone[key] = None if key == "pretrained" else False
    backbone.pop("init_cfg", None)
    cfg.cls_head.num_classes = num_classes
    segments = model_args.get("num_segments")
    if segments is not None:
        if "num_segments" in backbone:
            backbone.num_segments = segments
        if "num_segments" in cfg.cls_head:
            cfg.cls_head.num_segments = segments
    cfg.pop("data_preprocessor", None)  # our inputs are normalised by the data pipeline already
    model = MODELS.build(cfg)
    three_d = model_type not in {"tsn_r50", "tsn_r101", "tsm_r50", "tsm_r101", "tsm_mobilenetv2"}

    def train_forward(inputs: torch.Tensor) -> torch.Tensor:
        # MMAction2 recognizers take (N, V, ...) and fold V themselves; ours are one view per sample.
        feats, kwargs = model.extract_feat(inputs.unsqueeze(1) if three_d else inputs)
        return model.cls_head(feats, **kwargs)

    def loss(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # The head's own loss (and the top-k accuracy it logs), on fp32 scores as in our step.
        samples = [ActionDataSample().set_gt_label(target[i : i + 1]) for i in range(target.shape[0])]
        losses = model.cls_head.loss_by_feat(scores, samples)
        return sum(v for k, v in losses.items() if "loss" in k)

    def forward(inputs: torch.Tensor) -> Any:
        x = inputs.unsqueeze(1) if three_d else inputs
        return model.extract_feat(x, stage="head", test_mode=True)

    return model, train_forward, loss, forward
