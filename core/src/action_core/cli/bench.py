"""``action-run bench data | train | infer``: speed of the data pipeline and of training / inference steps.

    action-run bench data tsm_r18_synthetic --clips 40 --data-root synth-data
    action-run bench data tsm_r50_1x1x8_50e_kinetics400_rgb --videos ~/videos
    action-run bench train tsm_r50_1x1x8_50e_kinetics400_rgb --synthetic-data --batch-size 2
    action-run bench infer slowfast_r50_4x16x1_256e_kinetics400_rgb --synthetic-data --batch-size 8 --compare-eager

See :mod:`action_core.tools.bench` for what is measured.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from typing import Any, cast

SPLITS = ("train", "val", "test")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="preset name or config file (TOML/YAML)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides", help="override a value"
    )
    parser.add_argument("--data-root", help="root folder of the dataset (sets data.root)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the clip order and random transforms")


def _load(args: argparse.Namespace) -> Any:
    from action_core.engine.commands import load_experiment

    return load_experiment(args.config, args.overrides, data_root=args.data_root)


def _data(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="action-run bench data",
        description="Clips/s and frames decoded per clip of a config's data pipeline against a naive PyAV "
        "baseline (decode from the first frame up to the last sampled one), side by side.",
    )
    _common(parser)
    parser.add_argument("--split", choices=SPLITS, default="train", help="whose pipeline and dataset")
    parser.add_argument("--clips", type=int, default=40, help="timed clips (after 2 warm-up clips)")
    parser.add_argument(
        "--videos", help="a folder of videos to run the split's pipeline on (no dataset needed)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (a loader worker has 1)"
    )
    args = parser.parse_args(argv)
    import torch

    from action_core.tools.bench import bench_data, video_records

    torch.set_num_threads(args.threads)
    cfg = _load(args)
    split = getattr(cfg.data, args.split)
    if args.videos:
        from action_core.data import VideoDataset

        dataset: Any = VideoDataset(video_records(args.videos), [dict(s) for s in split.pipeline])
        where = f"{len(dataset)} videos under {args.videos}"
    else:
        from action_core.engine.builders import build_dataset_from_config

        dataset = build_dataset_from_config(cfg, args.split)
        where = f"dataset {cfg.data.dataset!r} split {split.split!r} ({len(dataset)} samples)"
    result = bench_data(dataset, clips=args.clips, seed=args.seed)
    steps = " -> ".join(str(s.get("type")) for s in split.pipeline)
    print(f"bench data: {args.config} [{args.split}] on {where}; {torch.get_num_threads()} thread(s)")
    print(f"pipeline: {steps}")
    print(result.render())
    return 0


def _loader_batches(cfg: Any, which: str, batch_size: int, workers: int, seed: int, count: int) -> Iterator:
    import torch
    from torch.utils.data import RandomSampler

    from action_core.engine.builders import build_dataset_from_config, make_loader

    dataset: Any = build_dataset_from_config(cfg, which)  # map-style: has a length
    if len(dataset) == 0:
        from action_core.tools.bench import BenchError

        raise BenchError(f"the {which} split of {cfg.data.dataset!r} is empty")
    sampler = RandomSampler(
        dataset,
        replacement=True,
        num_samples=count * batch_size,
        generator=torch.Generator().manual_seed(seed),
    )
    return iter(make_loader(dataset, sampler, batch_size=batch_size, workers=workers, seed=seed))


def _with_layout(fn: Any, model: Any, channels_last: bool) -> Any:
    """``fn`` taking the batch in the memory format its model runs in (converted inside the timed step, as
    the trainer does after fetching a batch)."""
    from action_core.engine.inference import to_model_layout

    def step(inputs: Any, target: Any) -> None:
        fn(to_model_layout(inputs.contiguous(), model, channels_last), target)

    return step


def _steps(mode: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"action-run bench {mode}",
        description=(
            "Seconds per training iteration, data loading included (MMAction2's s/iter), median after warm-up."
            if mode == "train"
            else "Inference clips/s (one forward per batch, data loading included), median after warm-up."
        ),
    )
    _common(parser)
    parser.add_argument("--iters", type=int, default=10, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    parser.add_argument("--batch-size", type=int, help="default: data.batch_size of the config")
    parser.add_argument("--workers", type=int, help="loader workers (default: data.workers of the config)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument(
        "--amp",
        choices=["auto", "none", "bf16", "fp16"],
        help="default: train.amp of the config ('auto': what the device computes fast, as training does)",
    )
    parser.add_argument(
        "--channels-last",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="channels_last(_3d) weights and inputs (default: train.channels_last of the config, 'auto')",
    )
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile our model (default: train.compile of the config, 'auto'); compilation happens "
        "in the warm-up iterations",
    )
    if mode == "infer":
        parser.add_argument(
            "--fold-bn",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="fold batch norms into convolutions as action-run test does (default: test.fold_bn)",
        )
    parser.add_argument(
        "--compare-eager",
        action="store_true",
        help="also time our plain eager model (no batch norm folding, no compilation) in the same loop",
    )
    parser.add_argument(
        "--synthetic-data",
        action="store_true",
        help="random tensors of the config's input shape instead of the dataset (no data needed)",
    )
    parser.add_argument(
        "--split", choices=SPLITS, help="whose pipeline/dataset feeds the model (default: train / val)"
    )
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--no-roofline",
        action="store_true",
        help="skip counting each step's FLOPs and calibrating the device's peak GFLOP/s (a few seconds)",
    )
    parser.add_argument(
        "--system-malloc",
        action="store_true",
        help="keep glibc's allocator defaults (default: keep_freed_memory(), as the trainer does "
        "unless train.tune_memory = false; it applies to everything in this process, a reference included)",
    )
    parser.add_argument(
        "--reference",
        choices=["mmaction2"],
        help="also time MMAction2's model for the same config in this process (needs mmaction importable)",
    )
    parser.add_argument(
        "--reference-amp",
        choices=["none", "bf16", "fp16"],
        help="precision of the reference (default: --amp)",
    )
    parser.add_argument(
        "--reference-memory-format",
        choices=["same", "contiguous", "channels_last"],
        default="same",
        help="memory format of the reference (default: the same as ours)",
    )
    args = parser.parse_args(argv)

    from action_core.tools.bench import check_mmaction2

    if args.reference == "mmaction2":
        check_mmaction2()  # fail before any work when it cannot run
    import torch

    from action_core.engine.builders import build_optimizer
    from action_core.engine.inference import pick_device
    from action_core.tools import bench

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = _load(args)
    tuned = False
    if not args.system_malloc and cfg.train.tune_memory:
        from action_core.data import keep_freed_memory

        tuned = keep_freed_memory()
    device = pick_device(args.device)
    which = args.split or ("train" if mode == "train" else "val")
    batch_size = args.batch_size or cfg.data.batch_size
    model_args = dict(cfg.model.args)
    if "pretrained" in model_args:
        model_args["pretrained"] = False  # timing needs no downloaded weights
    torch.manual_seed(args.seed)
    from action_core.models.compose import compose_model, without_downloads

    description = without_downloads({**cfg.model.description(), **model_args})
    model = compose_model(description, num_classes=cfg.model.num_classes)
    from action_core.engine.fastpath import conv_dims
    from action_core.hardware import choose_speed

    speed = choose_speed(
        device,
        amp=args.amp or cfg.train.amp,
        channels_last=cfg.train.channels_last if args.channels_last is None else args.channels_last,
        compile=cfg.train.compile if args.compile is None else args.compile,
        log=False,
        task=mode,
        conv_dims=conv_dims(model),
    )
    for choice in (speed.amp, speed.channels_last):
        if choice.warning:
            print(f"warning: {choice.warning}", file=sys.stderr)
    amp, channels_last = str(speed.amp.value), bool(speed.channels_last.value)
    # ours as action-run runs it (inference: batch norm folded like `test`; compiled where chosen), then
    # optionally our plain eager model, then the reference
    models: list[tuple[str, torch.nn.Module, Any]] = [("action " + cfg.model.type, model, "ours")]
    fold = mode == "infer" and (cfg.test.fold_bn if args.fold_bn is None else args.fold_bn)
    if args.compare_eager and (fold or speed.compile.value):
        models.append(("action " + cfg.model.type + " [eager]", model, None))
    if args.reference == "mmaction2":
        ref, *functions = bench.build_mmaction2_reference(
            cfg.model.type, num_classes=cfg.model.num_classes, model_args=model_args
        )
        models.append(("mmaction2 " + cfg.model.type, ref, functions))

    total = args.iters + args.warmup

    def make_batches() -> Iterator:
        if args.synthetic_data:
            pipeline = getattr(cfg.data, which).pipeline
            shape = bench.input_shape_from_pipeline(pipeline, model, batch_size=batch_size)
            return bench.synthetic_batches(shape, cfg.model.num_classes, seed=args.seed)
        workers = cfg.data.workers if args.workers is None else args.workers
        return _loader_batches(cfg, which, batch_size, workers, args.seed, total)

    def batches_for_fold() -> Any:
        # a batch of the benchmark's own input (the synthetic tensor; a fresh loader's first batch)
        return next(make_batches())

    steps = []
    for name, net, extra in models:
        net_amp, net_cl = amp, channels_last
        reference = extra is not None and extra != "ours"
        if reference:  # the reference may run at other settings (e.g. the best ones it supports)
            net_amp = args.reference_amp or amp
            if args.reference_memory_format != "same":
                net_cl = args.reference_memory_format == "channels_last"
            if (net_amp, net_cl) != (amp, channels_last):
                fmt = "channels_last" if net_cl else "contiguous"
                name = f"{name} [{'fp32' if net_amp == 'none' else net_amp}, {fmt}]"
        net.to(device)
        if net_cl:
            bench.convert_memory_format(net)
        if extra == "ours":
            extra = None
            if fold:
                net = bench.fold_for_bench(
                    net, batches_for_fold(), model, channels_last=net_cl, device=device
                )
                name += " [BN folded]"
            if speed.compile.value:
                # inference: inductor's freezing folds weights as constants (batch norm, oneDNN weight
                # prepacking, convolution + activation fusion), as the inference fast path compiles
                net = cast(
                    torch.nn.Module,
                    torch.compile(net, options={"freezing": True} if mode == "infer" else None),
                )
                name += " [compiled]"
        if mode == "train":
            fn = bench.make_train_step(
                net,
                build_optimizer(net, cfg.optim),
                device=device,
                amp=net_amp,
                grad_clip=cfg.optim.grad_clip,
                forward=extra[0] if extra else None,
                loss=extra[1] if extra else None,
            )
        else:
            fn = bench.make_infer_step(net, device=device, amp=net_amp, forward=extra[2] if extra else None)
        steps.append((name, _with_layout(fn, model, net_cl)))

    total = args.iters + args.warmup
    batches = make_batches()

    result = bench.bench_steps(
        steps,
        itertools.islice(batches, total),
        mode=mode,
        device=device,
        iters=args.iters,
        warmup=args.warmup,
        amp=amp,
        channels_last=channels_last,
        roofline=not args.no_roofline,
    )
    source = "synthetic data" if args.synthetic_data else f"{cfg.data.dataset!r} {which} split"
    malloc = "freed memory kept (tune_memory)" if tuned else "allocator defaults"
    print(f"bench {mode}: {args.config} ({cfg.model.type}) on {source}; torch {torch.__version__}; {malloc}")
    print(speed.describe())
    print(result.render())
    return 0


def main(argv: list[str]) -> int:
    """``action-run bench data|train|infer CONFIG ...``"""
    usage = "action-run bench {data,train,infer} CONFIG_OR_PRESET [options]  (see `action-run bench MODE -h`)"
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage)
        print(__doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0])
        return 0 if argv else 2
    mode, rest = argv[0], list(argv[1:])
    if mode == "data":
        return _data(rest)
    if mode in {"train", "infer"}:
        return _steps(mode, rest)
    print(f"action-run bench: unknown mode {mode!r}; use data, train or infer\n{usage}", file=sys.stderr)
    return 2
