"""`action-run bsn run`: the TEM -> PGM -> PEM chain with intermediate files, on tiny synthetic features."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from bsn_synthetic import make_feature_set

from action_bsn.cli import main
from action_core.api import read_activitynet_results
from action_testkit import PluginConformance

TINY = """
[model]
type = "bsn"
num_classes = 1
[model.args]
tem = {{ temporal_dim = 16, tem_feat_dim = 8, tem_hidden_dim = 16 }}
pem = {{ pem_hidden_dim = 16 }}
pgm = {{ top_k_train = 50, top_k_test = 80 }}
pem_recipe = {{ epochs = 2, lr = 0.01, batch_size = 4, milestones = [1] }}
[data]
dataset = "activitynet_features"
root = "{root}"
batch_size = 4
workers = 0
[data.train]
split = "train"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[data.test]
split = "val"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[optim]
type = "adamw"
lr = 0.003
[schedule]
epochs = 3
"""


class TestConformance(PluginConformance):
    plugin = "bsn"


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_chain_writes_intermediates_and_resumes(tmp_path, one_thread, capsys):
    make_feature_set(tmp_path, num_videos=12, temporal_scale=16, feat_dim=8, seed=0, split="train")
    make_feature_set(tmp_path, num_videos=4, temporal_scale=24, feat_dim=8, seed=1, split="val")
    cfg = tmp_path / "bsn.toml"
    cfg.write_text(TINY.format(root=tmp_path), encoding="utf-8")
    work = tmp_path / "run"
    assert main(["run", str(cfg), "--work-dir", str(work)]) == 0
    assert "AUC" in capsys.readouterr().out
    train_names = [f"v_train0_{i:03d}" for i in range(12)]
    val_names = [f"v_val1_{i:03d}" for i in range(4)]
    for name in train_names + val_names:
        tem = np.loadtxt(work / "tem_results" / f"{name}.csv", delimiter=",", skiprows=1)
        assert tem.shape == (16, 5) and ((tem[:, :3] >= 0) & (tem[:, :3] <= 1)).all()
        props = np.loadtxt(work / "pgm_proposals" / f"{name}.csv", delimiter=",", skiprows=1, ndmin=2)
        assert (props[:, 0] < props[:, 1]).all() and (np.diff(props[:, 4]) <= 0).all()
        feats = np.load(work / "pgm_features" / f"{name}.npy")
        assert feats.shape == (min(len(props), 50 if name in train_names else 80), 32)
    assert (work / "tem.pth").is_file() and (work / "pem.pth").is_file()
    results = read_activitynet_results(work / "results.json")
    assert set(results) == {n[2:] for n in val_names}
    first = json.loads((work / "metrics.json").read_text())
    # resume from the stored TEM results: PGM and PEM again give the same files and metrics
    (work / "metrics.json").unlink()
    assert main(["run", str(cfg), "--work-dir", str(work), "--stages", "pgm,pem-train,pem-infer"]) == 0
    assert json.loads((work / "metrics.json").read_text()) == first


def test_unknown_stage_is_refused(tmp_path):
    make_feature_set(tmp_path, num_videos=2, temporal_scale=16, feat_dim=8, seed=0, split="train")
    make_feature_set(tmp_path, num_videos=1, temporal_scale=16, feat_dim=8, seed=1, split="val")
    cfg = tmp_path / "bsn.toml"
    cfg.write_text(TINY.format(root=tmp_path), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown BSN stages"):
        main(["run", str(cfg), "--work-dir", str(tmp_path / "w"), "--stages", "tem,pgm"])
