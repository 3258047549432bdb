"""Train (and optionally test) the tiny recognizer; run as a script by the kill -9 and torchrun tests.

python run_tiny.py WORK_DIR [--epochs 3] [--kill-at-step N] [--ckpt-iters M] [--resume auto]
                   [--overwrite] [--test-out results.json] [--hold-at-step N --hold-file F]
                   [--kill-copying epoch_1.pth]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from tinyparts import ClipDataset, TinyRecognizer3D, tiny_config
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from action_core.engine.distributed import dist_info
from action_core.engine.inference import evaluate
from action_core.engine.inference import test as run_test
from action_core.engine.trainer import Trainer


class KillAt:
    """Sends SIGKILL to its own process when the given optimiser step is logged (mid-epoch)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def action_on_log(self, run: Any, step: int, scalars: dict[str, float]) -> None:
        if step == self.step and "train/loss" in scalars:
            os.kill(os.getpid(), signal.SIGKILL)


class HoldAt:
    """At the given optimiser step, creates ``<file>.reached`` and waits until ``file`` exists: a run that is
    certainly still going while the test starts another one."""

    def __init__(self, step: int, file: str) -> None:
        self.step, self.file = step, file

    def action_on_log(self, run: Any, step: int, scalars: dict[str, float]) -> None:
        if step == self.step and "train/loss" in scalars:
            Path(self.file + ".reached").touch()
            deadline = time.monotonic() + 900  # the test releases it; a loaded machine may take minutes
            while not os.path.exists(self.file) and time.monotonic() < deadline:
                time.sleep(0.05)


def kill_while_copying(name: str) -> None:
    """SIGKILL this process half-way through the trainer's atomic copy to ``name`` (e.g. ``epoch_1.pth``):
    the temporary file is created and partly written as the real copy does, then the process dies."""
    from action_core.engine import trainer as trainer_module

    real_copy = trainer_module.atomic_copy

    def copy(src: Any, dst: Any) -> Path:
        dst = Path(dst)
        if dst.name == name:
            fd, _ = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
            os.write(fd, Path(src).read_bytes()[:4096])
            os.kill(os.getpid(), signal.SIGKILL)
        return real_copy(src, dst)

    trainer_module.atomic_copy = copy


def datasets() -> dict[str, ClipDataset]:
    return {"train": ClipDataset(64, seed=1), "val": ClipDataset(37, seed=2, augment=False)}


def make_test_dataset() -> ClipDataset:
    return ClipDataset(37, seed=3, views=3, noise=2.5, augment=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("work_dir")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--kill-at-step", type=int)
    parser.add_argument("--ckpt-iters", type=int, default=0)
    parser.add_argument("--resume")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--test-out")
    parser.add_argument("--hold-at-step", type=int)
    parser.add_argument("--hold-file")
    parser.add_argument("--kill-copying")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = tiny_config(schedule={"epochs": args.epochs}, train={"ckpt_interval_iters": args.ckpt_iters})
    callbacks: list[Any] = [KillAt(args.kill_at_step)] if args.kill_at_step else []
    if args.hold_at_step:
        callbacks.append(HoldAt(args.hold_at_step, args.hold_file))
    if args.kill_copying:
        kill_while_copying(args.kill_copying)
    trainer = Trainer(
        cfg,
        work_dir=args.work_dir,
        model=TinyRecognizer3D,
        datasets=datasets(),
        callbacks=callbacks,
        progress=False,
    )
    trainer.fit(resume=args.resume, overwrite=args.overwrite)
    if args.test_out:
        checkpoint = os.path.join(args.work_dir, "last.pth")
        results = run_test(
            cfg,
            checkpoint,
            out=args.test_out,
            model=TinyRecognizer3D(),
            dataset=make_test_dataset(),
            progress=False,
        )
        # The stock DistributedSampler pads shards with duplicates; evaluation must still count each once.
        info = dist_info()
        dataset = make_test_dataset()
        sampler = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank, shuffle=False)
        padded = evaluate(
            trainer.model,
            DataLoader(dataset, batch_size=5, sampler=sampler),
            metrics=cfg.test.metrics,
            average=cfg.test.average,
            progress=False,
        )
        if info.is_main:
            summary = {
                "test": results,
                "padded_eval": padded,
                "world_size": info.world_size,
                "padded_len": len(sampler) * info.world_size,
            }
            with open(os.path.join(args.work_dir, "summary.json"), "w") as handle:
                json.dump(summary, handle)


if __name__ == "__main__":
    main()
