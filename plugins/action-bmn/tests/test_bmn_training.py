"""BMN learns planted action segments through core's Trainer: its AUC beats random proposals evaluated side
by side."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from bmn_synthetic import make_feature_set

from action_activitynet.dataset import build
from action_bmn.models import bmn
from action_core.api import (
    ExperimentConfig,
    Trainer,
    average_recall_at_avg_proposals,
    evaluate,
    make_eval_loader,
)

T = 32


def random_proposals(durations: dict[str, float], *, per_video: int = 100, seed: int = 0) -> dict:
    """The baseline: ``per_video`` proposals per video with uniform random start/end and random scores."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, duration in durations.items():
        ends = np.sort(rng.uniform(0.0, duration, size=(per_video, 2)), axis=1)
        scores = rng.uniform(size=per_video)
        out[name] = [{"segment": [float(a), float(b)], "score": float(s)} for (a, b), s in zip(ends, scores)]
    return out


@pytest.fixture
def one_thread():
    """One intra-op thread: two threads on a shared 2-core machine thrash (8x slower small convolutions)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
def test_bmn_beats_random_proposals(tmp_path, one_thread):
    make_feature_set(tmp_path, num_videos=48, temporal_scale=T, feat_dim=16, seed=0, split="train")
    make_feature_set(tmp_path, num_videos=20, temporal_scale=T, feat_dim=16, seed=1, split="val")
    train = build("train", root=str(tmp_path), temporal_scale=T, feat_dim=16)
    val = build("val", root=str(tmp_path), temporal_scale=T, feat_dim=16, test_mode=True)
    args = {"temporal_dim": T, "feat_dim": 16, "num_samples": 8, "num_samples_per_bin": 3,
            "hidden_dim_1d": 32, "hidden_dim_2d": 16, "hidden_dim_3d": 32}  # fmt: skip
    cfg = ExperimentConfig.from_dict(
        {
            "model": {"type": "bmn", "num_classes": 1, "args": args},
            "data": {"dataset": "activitynet_features", "batch_size": 8, "workers": 0},
            "optim": {"type": "adam", "lr": 3e-3, "weight_decay": 1e-4, "grad_clip": 40.0},
            "schedule": {"epochs": 12},
            "train": {"val_interval": 0, "log_interval": 1},
        }
    )
    trainer = Trainer(cfg, work_dir=tmp_path / "run", model=lambda: bmn(**args),
                      datasets={"train": train}, progress=False)  # fmt: skip
    trainer.fit()
    losses = trainer.history["train/epoch_loss"]
    assert losses[-1][1] < 0.5 * losses[0][1]
    trained = evaluate(trainer.model, make_eval_loader(val, batch_size=4),
                       metrics=["activitynet_proposal"], progress=False)  # fmt: skip
    baseline = average_recall_at_avg_proposals(
        val.ground_truth(), random_proposals({v.name: v.corrected_second for v in val.videos})
    ).as_dict((1, 5, 10, 100))
    print(f"BMN AUC {trained['AUC']:.2f} AR@100 {trained['AR@100']:.3f}; random AUC {baseline['AUC']:.2f}")
    assert trained["AUC"] > baseline["AUC"] + 25.0
    assert trained["AR@10"] > 2 * baseline["AR@10"]
