"""Time a TSM-R50 train step and eval forward, ours vs MMAction2 1.2.0, side by side in one process.

TSM-R50, 8 segments, 224x224, batch 2, fp32, CPU; both models hold the same weights (MMAction2's converted).
Runs alternate between the two implementations so machine load affects both alike; the median is reported.
Needs a venv with MMAction2 (see docs/benchmarks-2d.md) and our packages installed in it (their entry points
register the parts the builders compose):

    $SIDE/bin/pip install -e core -e plugins/action-tsn -e plugins/action-tsm
    $SIDE/bin/python plugins/action-tsm/benchmarks/bench_vs_mmaction.py --repeats 10
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.config import Config

from action_core.api import load_weights
from action_tsm.models import tsm_r50


def build_mmaction(num_segments: int) -> torch.nn.Module:
    base = Path(__import__("mmaction").__file__).parent / ".mim/configs/_base_/models/tsm_r50.py"
    cfg = copy.deepcopy(Config.fromfile(str(base)).model)
    cfg.backbone.pretrained = None
    cfg.backbone.num_segments = num_segments
    cfg.cls_head.num_segments = num_segments
    return MODELS.build(cfg)


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    torch.manual_seed(0)

    mm = build_mmaction(args.segments)
    ours = tsm_r50(num_classes=400, num_segments=args.segments)
    load_weights(ours, mm.state_dict(), converter="tsm_from_mmaction")
    x = torch.randn(args.batch, args.segments, 3, args.size, args.size)
    labels = torch.randint(0, 400, (args.batch,))
    samples = [ActionDataSample().set_gt_label(labels[i : i + 1]) for i in range(args.batch)]
    opt_mm = torch.optim.SGD(mm.parameters(), lr=1e-4, momentum=0.9)
    opt_ours = torch.optim.SGD(ours.parameters(), lr=1e-4, momentum=0.9)

    def train_mm() -> None:
        mm.train()
        losses = mm.loss(x, samples)
        loss = sum(v for k, v in losses.items() if "loss" in k)
        opt_mm.zero_grad(set_to_none=True)
        loss.backward()
        opt_mm.step()

    def train_ours() -> None:
        ours.train()
        loss = ours.loss(ours(x), labels)
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()

    def eval_mm() -> None:
        mm.eval()
        with torch.no_grad():
            mm.extract_feat(x, test_mode=True, stage="head")

    def eval_ours() -> None:
        ours.eval()
        with torch.no_grad():
            ours(x)

    results = {}
    for phase, pair in (("train step", (train_mm, train_ours)), ("eval forward", (eval_mm, eval_ours))):
        for fn in pair:
            for _ in range(args.warmup):
                fn()
        times: tuple[list[float], list[float]] = ([], [])
        for i in range(args.repeats):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for j in order:
                times[j].append(timed(pair[j]))
        results[phase] = (statistics.median(times[0]), statistics.median(times[1]))

    print(
        f"TSM-R50, {args.segments} segments, {args.size}x{args.size}, batch {args.batch}, fp32, CPU, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, median of {args.repeats}"
    )
    print(f"{'phase':14s} {'mmaction2 s':>12s} {'ours s':>10s} {'ours/mm':>9s}")
    for phase, (t_mm, t_ours) in results.items():
        print(f"{phase:14s} {t_mm:12.3f} {t_ours:10.3f} {t_ours / t_mm:9.3f}")


if __name__ == "__main__":
    main()
