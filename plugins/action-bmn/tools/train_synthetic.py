"""Longer BMN run on synthetic planted-segment features through core's Trainer, side by side with random
proposals.

    .venv/bin/python plugins/action-bmn/tools/train_synthetic.py [--temporal-scale 50] [--epochs 20]

Prints the per-epoch loss, then AR@1/5/10/100 and AUC of BMN and of uniform random proposals on held-out
videos. The numbers in docs/localization-notes.md come from this script (one CPU thread).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bmn_synthetic import make_feature_set  # noqa: E402
from test_bmn_training import random_proposals  # noqa: E402

from action_activitynet.dataset import build  # noqa: E402
from action_bmn.models import bmn  # noqa: E402
from action_core.api import (  # noqa: E402
    ExperimentConfig,
    Trainer,
    average_recall_at_avg_proposals,
    evaluate,
    make_eval_loader,
)


class PrintEpochs:
    """Prints each epoch's loss as the Trainer reports it."""

    def __init__(self) -> None:
        self.start = time.time()

    def action_on_epoch_end(self, run: object, epoch: int, metrics: dict) -> None:
        print(f"epoch {epoch}: loss {metrics['train/epoch_loss']:.4f} ({time.time() - self.start:.0f} s)")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--temporal-scale", type=int, default=50)
    p.add_argument("--feat-dim", type=int, default=32)
    p.add_argument("--train-videos", type=int, default=200)
    p.add_argument("--val-videos", type=int, default=50)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t_scale, dim = a.temporal_scale, a.feat_dim
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for split, videos, seed in (("train", a.train_videos, 0), ("val", a.val_videos, 1)):
            make_feature_set(
                root,
                num_videos=videos,
                temporal_scale=t_scale,
                feat_dim=dim,
                seed=seed,
                split=split,
                max_segments=3,
            )
        train = build("train", root=d, temporal_scale=t_scale, feat_dim=dim)
        val = build("val", root=d, temporal_scale=t_scale, feat_dim=dim, test_mode=True)
        args = {"temporal_dim": t_scale, "feat_dim": dim, "num_samples": 16, "num_samples_per_bin": 3,
                "hidden_dim_1d": 64, "hidden_dim_2d": 32, "hidden_dim_3d": 64}  # fmt: skip
        cfg = ExperimentConfig.from_dict(
            {
                "model": {"type": "bmn", "num_classes": 1, "args": args},
                "data": {"dataset": "activitynet_features", "batch_size": 8, "workers": 0},
                "optim": {"type": "adam", "lr": a.lr, "weight_decay": 1e-4, "grad_clip": 40.0},
                "schedule": {"epochs": a.epochs, "milestones": [int(a.epochs * 0.8)]},
                "train": {"val_interval": 0},
            }
        )
        trainer = Trainer(cfg, work_dir=root / "run", model=lambda: bmn(**args), datasets={"train": train},
                          callbacks=[PrintEpochs()], progress=False)  # fmt: skip
        start = time.time()
        trainer.fit()
        loader = make_eval_loader(val, batch_size=8)
        trained = evaluate(trainer.model, loader, metrics=["activitynet_proposal"], progress=False)
        baseline = average_recall_at_avg_proposals(
            val.ground_truth(), random_proposals({v.name: v.corrected_second for v in val.videos})
        ).as_dict((1, 5, 10, 100))
        print(f"train time {time.time() - start:.0f} s")
        print("BMN    " + " ".join(f"{k} {v:.4f}" for k, v in trained.items()))
        print("random " + " ".join(f"{k} {v:.4f}" for k, v in baseline.items()))


if __name__ == "__main__":
    main()
