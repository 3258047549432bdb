"""Longer BMN run on synthetic planted-segment features, side by side with random proposals.

    /work/venv/bin/python plugins/action-bmn/tools/train_synthetic.py [--temporal-scale 50] [--epochs 20]

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

from action_activitynet.dataset import build  # noqa: E402
from action_bmn.engine import (  # noqa: E402
    evaluate_proposals,
    predict_localizer,
    random_proposals,
    train_localizer,
)
from action_bmn.models import bmn  # noqa: E402


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
        make_feature_set(
            root,
            num_videos=a.train_videos,
            temporal_scale=t_scale,
            feat_dim=dim,
            seed=0,
            split="train",
            max_segments=3,
        )
        make_feature_set(
            root,
            num_videos=a.val_videos,
            temporal_scale=t_scale,
            feat_dim=dim,
            seed=1,
            split="val",
            max_segments=3,
        )
        train = build("train", root=d, temporal_scale=t_scale, feat_dim=dim)
        val = build("val", root=d, temporal_scale=t_scale, feat_dim=dim, test_mode=True)
        model = bmn(
            temporal_dim=t_scale,
            feat_dim=dim,
            num_samples=16,
            num_samples_per_bin=3,
            hidden_dim_1d=64,
            hidden_dim_2d=32,
            hidden_dim_3d=64,
        )
        start = time.time()
        history = train_localizer(
            model,
            train,
            epochs=a.epochs,
            batch_size=8,
            lr=a.lr,
            milestones=[int(a.epochs * 0.8)],
            seed=0,
            on_epoch_end=lambda e, loss: print(
                f"epoch {e}: loss {loss:.4f} ({time.time() - start:.0f} s)", flush=True
            ),
        )
        gt = val.ground_truth()
        trained = evaluate_proposals(gt, predict_localizer(model, val))
        baseline = evaluate_proposals(
            gt, random_proposals({v.name: v.corrected_second for v in val.videos}, seed=0)
        )
        print(f"train time {time.time() - start:.0f} s, final loss {history[-1]:.4f}")
        print("BMN    " + " ".join(f"{k} {v:.4f}" for k, v in trained.items()))
        print("random " + " ".join(f"{k} {v:.4f}" for k, v in baseline.items()))


if __name__ == "__main__":
    main()
