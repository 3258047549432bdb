"""`action-run bmn train|test|localize` end to end on a tiny synthetic feature set."""

from __future__ import annotations

import json

import pytest
import torch
from bmn_synthetic import make_feature_set

from action_bmn.cli import main
from action_core.api import read_activitynet_results
from action_testkit import PluginConformance

TINY = """
[model]
type = "bmn"
num_classes = 1
args = {{ temporal_dim = 16, feat_dim = 8, num_samples = 4, num_samples_per_bin = 2, hidden_dim_1d = 8, hidden_dim_2d = 4, hidden_dim_3d = 8 }}
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
type = "adamw"
lr = 0.001
[schedule]
epochs = 2
milestones = [1]
"""


class TestConformance(PluginConformance):
    plugin = "bmn"


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def setup(tmp_path, one_thread):
    make_feature_set(tmp_path, num_videos=8, temporal_scale=12, feat_dim=8, seed=0, split="train")
    make_feature_set(tmp_path, num_videos=3, temporal_scale=20, feat_dim=8, seed=1, split="val")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY.format(root=tmp_path), encoding="utf-8")
    return tmp_path, cfg


def test_train_test_localize(setup, capsys):
    root, cfg = setup
    work = root / "run"
    assert main(["train", str(cfg), "--work-dir", str(work), "--optimizer", "adam"]) == 0
    metrics = json.loads((work / "metrics.json").read_text())
    assert len(metrics["loss"]) == 2 and 0.0 <= metrics["AUC"] <= 100.0
    results = read_activitynet_results(work / "results.json")
    assert set(results) == {f"val1_{i:03d}" for i in range(3)}  # v_ prefix stripped
    assert main(["test", str(cfg), "--checkpoint", str(work / "last.pth")]) == 0
    assert "AUC" in capsys.readouterr().out
    out = root / "proposals.json"
    argv = ["localize", "--checkpoint", str(work / "last.pth"), "--annotations", str(root / "anno_val.json")]
    assert main([*argv, "--features", str(root / "features"), "--out", str(out), "--keep-prefix"]) == 0
    props = read_activitynet_results(out)
    assert set(props) == {f"v_val1_{i:03d}" for i in range(3)}
    assert all(0 < len(v) <= 100 for v in props.values())
    assert all(p["segment"][0] <= p["segment"][1] for v in props.values() for p in v)


def test_core_commands_hand_localization_presets_to_bmn(setup, capsys):
    from action_core.api import run_cli as action_run

    root, cfg = setup
    work = root / "core_run"
    assert action_run(["train", str(cfg), "--work-dir", str(work)]) == 0
    assert (work / "last.pth").is_file()
    assert action_run(["test", str(cfg), "--checkpoint", str(work / "last.pth")]) == 0
    assert "AUC" in capsys.readouterr().out
    out = root / "core_proposals.json"
    argv = ["localize", "--checkpoint", str(work / "last.pth"), "--annotations", str(root / "anno_val.json")]
    assert action_run([*argv, "--features", str(root / "features"), "--out", str(out)]) == 0
    assert set(read_activitynet_results(out)) == {f"val1_{i:03d}" for i in range(3)}
