"""BSN stage by stage through core's engine: the TEM and PEM presets train with the Trainer, `bsn pgm` turns
the TEM's outputs into the PEM's proposals, `bsn run` chains it all and resumes; on tiny synthetic features."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from bsn_synthetic import make_feature_set

from action_core.api import load_checkpoint, read_activitynet_results, run_cli
from action_testkit import PluginConformance

TEM = """
[model]
type = "bsn_tem"
num_classes = 1
args = {{ temporal_dim = 16, tem_feat_dim = 8, tem_hidden_dim = 16 }}
[data]
dataset = "activitynet_features"
root = "{root}"
batch_size = 4
workers = 0
[data.train]
split = "train"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[data.val]
split = "val"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[data.test]
split = "val"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[optim]
type = "adam"
lr = 0.003
grad_clip = 40.0
[schedule]
epochs = 3
[train]
val_interval = 0
log_interval = 1
[test]
metrics = []
"""

PEM = """
[model]
type = "bsn_pem"
num_classes = 1
args = { pem_hidden_dim = 16 }
[data]
dataset = "bsn_proposals"
batch_size = 4
workers = 0
[data.train]
split = "train"
args = { top_k = 50 }
[data.val]
split = "val"
args = { top_k = 80 }
[data.test]
split = "val"
args = { top_k = 80 }
[optim]
type = "adam"
lr = 0.01
weight_decay = 0.00001
grad_clip = 40.0
[schedule]
epochs = 2
milestones = [1]
[train]
val_interval = 2
log_interval = 1
best_metric = "AUC"
[test]
metrics = ["activitynet_proposal"]
"""


class TestConformance(PluginConformance):
    plugin = "bsn"


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def configs(tmp_path):
    make_feature_set(tmp_path, num_videos=12, temporal_scale=16, feat_dim=8, seed=0, split="train")
    make_feature_set(tmp_path, num_videos=4, temporal_scale=24, feat_dim=8, seed=1, split="val")
    tem, pem = tmp_path / "tem.toml", tmp_path / "pem.toml"
    tem.write_text(TEM.format(root=tmp_path), encoding="utf-8")
    pem.write_text(PEM, encoding="utf-8")
    return tem, pem


def test_chain_trains_both_stages_with_the_engine_and_resumes(tmp_path, configs, one_thread, capsys):
    tem, pem = configs
    work = tmp_path / "run"
    argv = ["bsn", "run", "--tem", str(tem), "--pem", str(pem), "--work-dir", str(work)]
    assert run_cli([*argv, "--top-k-train", "50", "--top-k-test", "80"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["AUC"] <= 100.0 and metrics["num_samples"] == 4.0
    # each learned stage is a Trainer run: checkpoints, config and JSON-lines log with its component losses
    for stage, terms in (("tem", {"loss_action", "loss_start", "loss_end"}), ("pem", {"temporal_iou_loss"})):
        state = load_checkpoint(work / stage / "last.pth")
        assert (
            state["format"] == "action-ckpt/1" and state["meta"]["config"]["model"]["type"] == f"bsn_{stage}"
        )
        steps = [json.loads(line) for line in (work / stage / "log.jsonl").read_text().splitlines()]
        assert all({f"train/{t}" for t in terms} <= set(r) for r in steps if "train/loss" in r)
    assert (work / "pem" / "best.pth").is_file()
    # the PGM's files, MMAction2's layout: TEM results of every video, proposals, BSP features
    train_names = [f"v_train0_{i:03d}" for i in range(12)]
    val_names = [f"v_val1_{i:03d}" for i in range(4)]
    for name in train_names + val_names:
        rows = np.loadtxt(work / "pgm" / "tem_results" / f"{name}.csv", delimiter=",", skiprows=1)
        assert rows.shape == (16, 5) and ((rows[:, :3] >= 0) & (rows[:, :3] <= 1)).all()
        props = np.loadtxt(work / "pgm" / "pgm_proposals" / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)
        assert (props[:, 0] < props[:, 1]).all() and (np.diff(props[:, 4]) <= 0).all()
        feats = np.load(work / "pgm" / "pgm_features" / f"{name}.npy")
        assert feats.shape == (min(len(props), 50 if name in train_names else 80), 32)
    assert set(read_activitynet_results(work / "results.json")) == {n[2:] for n in val_names}

    # `bsn pgm` alone, from the config stored in the TEM checkpoint, writes the same files
    again = tmp_path / "pgm_again"
    pgm_argv = ["bsn", "pgm", "--checkpoint", str(work / "tem" / "last.pth"), "--out", str(again)]
    assert run_cli([*pgm_argv, "--top-k-train", "50", "--top-k-test", "80"]) == 0
    for name in train_names + val_names:
        assert np.array_equal(
            np.load(again / "pgm_features" / f"{name}.npy"),
            np.load(work / "pgm" / "pgm_features" / f"{name}.npy"),
        )

    # --resume auto: both Trainer runs are complete, the chain ends with the same test metrics
    capsys.readouterr()
    assert run_cli([*argv, "--resume", "auto", "--top-k-train", "50", "--top-k-test", "80"]) == 0
    assert json.loads(capsys.readouterr().out) == metrics


def test_pem_test_through_action_run_and_tem_has_no_metric(tmp_path, configs, one_thread, capsys):
    tem, pem = configs
    work = tmp_path / "run"
    argv = [
        "bsn",
        "run",
        "--tem",
        str(tem),
        "--pem",
        str(pem),
        "--work-dir",
        str(work),
        "--stages",
        "tem,pgm",
    ]
    assert run_cli(argv) == 0 and json.loads(capsys.readouterr().out) == {}
    assert not (work / "pem").exists()
    # the TEM's predictions are an intermediate result: testing it only counts the videos
    assert run_cli(["test", str(tem), "--checkpoint", str(work / "tem" / "last.pth")]) == 0
    assert json.loads(capsys.readouterr().out) == {"num_samples": 4.0}
    assert (
        run_cli(["train", str(pem), "--data-root", str(work / "pgm"), "--work-dir", str(work / "pem")]) == 0
    )
    trained = json.loads(capsys.readouterr().out)
    test = [
        "test",
        str(pem),
        "--data-root",
        str(work / "pgm"),
        "--checkpoint",
        str(work / "pem" / "last.pth"),
    ]
    assert run_cli(test) == 0
    assert json.loads(capsys.readouterr().out)["AUC"] == trained["val/AUC"]


def test_unknown_stage_and_missing_proposals_are_refused(tmp_path, configs, capsys):
    tem, pem = configs
    argv = ["bsn", "run", "--tem", str(tem), "--pem", str(pem), "--work-dir", str(tmp_path / "w")]
    assert run_cli([*argv, "--stages", "tem,nms"]) == 2
    assert "unknown BSN stages ['nms']" in capsys.readouterr().err
    assert (
        run_cli(
            ["train", str(pem), "--data-root", str(tmp_path / "nothing"), "--work-dir", str(tmp_path / "p")]
        )
        == 2
    )
    assert "bsn pgm" in capsys.readouterr().err
