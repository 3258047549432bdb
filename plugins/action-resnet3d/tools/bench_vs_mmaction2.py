"""Side-by-side CPU timing of our 3D recognizers against MMAction2 1.2.0 (run by hand, never by pytest).

    $SIDE/bin/pip install -e core -e plugins/action-resnet3d -e plugins/action-i3d \
        -e plugins/action-slowonly -e plugins/action-slowfast -e plugins/action-r2plus1d  # once
    $SIDE/bin/python plugins/action-resnet3d/tools/bench_vs_mmaction2.py [--reps 3] [--models i3d,...]

Our models are composed of registered parts, so the plugins must be installed (their entry points found), not
merely on ``PYTHONPATH``.

For each model: both implementations get the same weights (ours converted from MMAction2's state dict), the
same input (batch 2, fp32, standard clip size) and alternate run by run (the order flips every repetition). "eval" is a no-grad forward in eval
mode; "train" is forward + cross-entropy + backward + SGD step in train mode. Reported: median seconds, the
ratio ours / MMAction2 (< 1 is faster), and ours with channels_last_3d memory format + bf16 autocast.

``--keep-freed-memory`` applies ``action_core.data.keep_freed_memory()`` to the process (to both
implementations alike), as our trainer does by default. ``--processes`` instead runs each implementation in
its own fresh process, as a user's training would: MMAction2 with glibc's allocator defaults (its runner does
not change them), ours with ``keep_freed_memory()`` (our trainer's default); the processes alternate, each
doing one warm-up and ``--reps`` timed train steps, then ``--reps`` timed eval forwards.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from torch import nn

I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))


def mm_configs() -> dict[str, tuple[dict, tuple[int, ...]]]:
    head = dict(type="I3DHead", num_classes=400, in_channels=2048, spatial_type="avg", dropout_ratio=0.5)
    return {
        "i3d_r50_32x2x1": (
            dict(
                type="Recognizer3D",
                backbone=dict(
                    type="ResNet3d",
                    depth=50,
                    pretrained=None,
                    pretrained2d=False,
                    conv1_kernel=(5, 7, 7),
                    conv1_stride_t=2,
                    pool1_stride_t=2,
                    inflate=I3D_INFLATE,
                    zero_init_residual=False,
                ),
                cls_head=head,
            ),
            (2, 3, 32, 224, 224),
        ),
        "slowonly_r50_8x8x1": (
            dict(
                type="Recognizer3D",
                backbone=dict(type="ResNet3dSlowOnly", depth=50, pretrained=None),
                cls_head=head,
            ),
            (2, 3, 8, 224, 224),
        ),
        "slowfast_r50_4x16x1": (
            dict(
                type="Recognizer3D",
                backbone=dict(type="ResNet3dSlowFast", pretrained=None),
                cls_head=dict(type="SlowFastHead", num_classes=400, in_channels=2304, dropout_ratio=0.5),
            ),
            (2, 3, 32, 224, 224),
        ),
        "r2plus1d_r34_8x8x1": (
            dict(
                type="Recognizer3D",
                backbone=dict(
                    type="ResNet2Plus1d",
                    depth=34,
                    pretrained=None,
                    pretrained2d=False,
                    conv_cfg=dict(type="Conv2plus1d"),
                    norm_cfg=dict(type="BN3d", requires_grad=True, eps=1e-3),
                    conv1_kernel=(3, 7, 7),
                    conv1_stride_t=1,
                    pool1_stride_t=1,
                    inflate=(1, 1, 1, 1),
                    spatial_strides=(1, 2, 2, 2),
                    temporal_strides=(1, 2, 2, 2),
                    zero_init_residual=False,
                ),
                cls_head=dict(type="I3DHead", num_classes=400, in_channels=512, dropout_ratio=0.5),
            ),
            (2, 3, 8, 224, 224),
        ),
    }


def ours(name: str) -> nn.Module:
    if name.startswith("i3d"):
        from action_i3d import i3d_r50

        return i3d_r50(num_classes=400)
    if name.startswith("slowonly"):
        from action_slowonly import slowonly_r50

        return slowonly_r50(num_classes=400)
    if name.startswith("slowfast"):
        from action_slowfast import slowfast_r50

        return slowfast_r50(num_classes=400)
    from action_r2plus1d import r2plus1d_r34

    return r2plus1d_r34(num_classes=400)


class MMForward(nn.Module):
    """MMAction2's recognizer reduced to what ours computes: backbone then head logits."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.recognizer.cls_head(self.recognizer.backbone(x))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def step_fns(model: nn.Module, x: torch.Tensor, target: torch.Tensor, *, fast: bool):
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    if fast:
        model = model.to(memory_format=torch.channels_last_3d)
        x = x.contiguous(memory_format=torch.channels_last_3d)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=fast)

    def eval_forward() -> None:
        model.eval()
        with torch.no_grad(), autocast():
            model(x)

    def train_step() -> None:
        model.train()
        with autocast():
            loss = nn.functional.cross_entropy(model(x).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return eval_forward, train_step


def one_process(name: str, variant: str, reps: int) -> None:
    """Child of ``--processes``: build one implementation, time its train step, print a JSON line."""
    import json

    cfg, shape = mm_configs()[name]
    torch.manual_seed(0)
    if variant == "ours":
        from action_core.api import keep_freed_memory

        keep_freed_memory()
        model = ours(name)
    else:
        model = MMForward(MODELS.build(cfg))
    x, target = torch.randn(shape), torch.tensor([1, 7])
    evaluate, train = step_fns(model, x, target, fast=False)
    train()
    evaluate()
    times = {"train": [timed(train) for _ in range(reps)], "eval": [timed(evaluate) for _ in range(reps)]}
    print(json.dumps(times))


def across_processes(names: list[str], args: argparse.Namespace) -> None:
    import json
    import subprocess
    import sys

    print(
        "| model | input | step | MMAction2, glibc defaults s | ours, keep_freed_memory s | ours / MMAction2 |"
    )
    print("|---|---|---|---|---|---|")
    for name in names:
        shape = mm_configs()[name][1]
        got = {v: {"train": [], "eval": []} for v in ("mmaction2", "ours")}
        order = ["mmaction2", "ours"]
        for _ in range(args.rounds):
            for variant in order:
                cmd = [sys.executable, __file__, "--one", variant, "--models", name, "--reps", str(args.reps)]
                cmd += ["--threads", str(args.threads)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                for step, times in json.loads(out.strip().splitlines()[-1]).items():
                    got[variant][step] += times
            order.reverse()
        for step in ("eval", "train"):
            m, o = statistics.median(got["mmaction2"][step]), statistics.median(got["ours"][step])
            print(
                f"| {name} | {'x'.join(map(str, shape))} | {step} | {m:.3f} | {o:.3f} | {o / m:.3f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--models", default="")
    parser.add_argument("--no-fast", action="store_true", help="skip the channels_last_3d + bf16 runs")
    parser.add_argument(
        "--threads", type=int, default=1, help="intra-op threads (1: stable on a shared machine)"
    )
    parser.add_argument(
        "--keep-freed-memory", action="store_true", help="apply keep_freed_memory() (to both) first"
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="each implementation in its own process at its own default allocator settings",
    )
    parser.add_argument("--rounds", type=int, default=2, help="--processes: processes per implementation")
    parser.add_argument("--one", choices=["mmaction2", "ours"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    register_all_modules()
    if args.one:
        one_process(args.models, args.one, args.reps)
        return
    names = [n for n in mm_configs() if not args.models or any(m in n for m in args.models.split(","))]
    if args.processes:
        across_processes(names, args)
        return
    if args.keep_freed_memory:
        from action_core.api import keep_freed_memory

        print("keep_freed_memory:", keep_freed_memory())
    from action_core.api import load_weights
    from action_resnet3d import convert_mmaction2

    torch.manual_seed(0)
    rows = []
    for name, (cfg, shape) in mm_configs().items():
        if args.models and not any(m in name for m in args.models.split(",")):
            continue
        mm = MMForward(MODELS.build(cfg))
        our = ours(name)
        load_weights(our, mm.recognizer.state_dict(), converter=convert_mmaction2)
        x = torch.randn(shape)
        target = torch.tensor([1, 7])
        mm_eval, mm_train = step_fns(mm, x, target, fast=False)
        our_eval, our_train = step_fns(our, x, target, fast=False)
        variants = {"mmaction2": (mm_eval, mm_train), "ours": (our_eval, our_train)}
        if not args.no_fast:
            fast_model = ours(name)
            load_weights(fast_model, mm.recognizer.state_dict(), converter=convert_mmaction2)
            variants["ours cl3d+bf16"] = step_fns(fast_model, x, target, fast=True)
        times: dict[str, dict[str, list[float]]] = {v: {"eval": [], "train": []} for v in variants}
        for fns in variants.values():  # warm-up (allocator, oneDNN primitive caches)
            fns[0]()
            fns[1]()
        order = list(variants)
        for _ in range(args.reps):
            for variant in order:
                ev, tr = variants[variant]
                times[variant]["eval"].append(timed(ev))
                times[variant]["train"].append(timed(tr))
            order.reverse()  # alternate who goes first, so drifting machine load hits both alike
        med = {v: {k: statistics.median(t) for k, t in d.items()} for v, d in times.items()}
        rows.append((name, shape, med))
        print(name, shape, {v: {k: round(t, 3) for k, t in d.items()} for v, d in med.items()}, flush=True)

    print()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, reps {args.reps} (median)")
    print(
        "| model | input | step | MMAction2 s | ours s | ours / MMAction2 | cl3d+bf16 s | speed-up vs ours fp32 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, shape, med in rows:
        for step in ("eval", "train"):
            m, o = med["mmaction2"][step], med["ours"][step]
            fast = med.get("ours cl3d+bf16", {}).get(step)
            fast_cols = f"{fast:.3f} | {o / fast:.2f}x" if fast else "- | -"
            print(
                f"| {name} | {'x'.join(map(str, shape))} | {step} | {m:.3f} | {o:.3f} | {o / m:.3f} | {fast_cols} |"
            )


if __name__ == "__main__":
    main()
