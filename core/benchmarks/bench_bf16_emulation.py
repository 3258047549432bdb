"""A training step in fp32 against the same step under bf16 autocast, same process, same batches, the order
rotating every iteration: how much slower bf16 is on a CPU that emulates it (no AVX-512 BF16 / AMX).

    .venv/bin/python core/benchmarks/bench_bf16_emulation.py [PRESET] [--batch-size 1] [--iters 3]

The figure feeds ``action_core.hardware.BF16_EMULATED_SLOWDOWN`` (the warning shown when bf16 is forced on
such a CPU); results in docs/benchmarks-speed.md.
"""

from __future__ import annotations

import argparse
import copy
import itertools

import torch

from action_core.engine.builders import build_optimizer
from action_core.engine.commands import load_experiment
from action_core.hardware import cpu_kind, native_bf16
from action_core.models.compose import compose_model, without_downloads
from action_core.tools import bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="tsm_r50_1x1x8_50e_kinetics400_rgb")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_experiment(args.preset, [])
    model_args = {**cfg.model.args, "pretrained": False}
    torch.manual_seed(0)
    fp32 = compose_model(
        without_downloads({**cfg.model.description(), **model_args}), num_classes=cfg.model.num_classes
    )
    bf16 = copy.deepcopy(fp32)
    device = torch.device("cpu")
    steps = [
        (f"{cfg.model.type} {name}", bench.make_train_step(
            net, build_optimizer(net, cfg.optim), device=device, amp=amp, grad_clip=cfg.optim.grad_clip
        ))
        for net, amp, name in ((fp32, "none", "fp32"), (bf16, "bf16", "bf16 autocast"))
    ]  # fmt: skip
    shape = bench.input_shape_from_pipeline(cfg.data.train.pipeline, fp32, batch_size=args.batch_size)
    batches = itertools.islice(
        bench.synthetic_batches(shape, cfg.model.num_classes), args.iters + args.warmup
    )
    result = bench.bench_steps(
        steps, batches, mode="train", device=device, iters=args.iters, warmup=args.warmup
    )
    print(f"CPU kind {cpu_kind()}, native bf16: {native_bf16()}; torch {torch.__version__}")
    print(result.render())


if __name__ == "__main__":
    main()
