"""BMN through core's engine, exactly like a recognizer: `action-run train/test/localize` on a tiny preset,
kill -9 and `--resume auto` ending bit-identical, torchrun with two processes giving one process's AR@AN
and AUC, mixed precision."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from bmn_runs import action_run, cli_env, install_killer, tiny_experiment

from action_core.api import load_checkpoint, read_activitynet_results, run_cli
from action_testkit import PluginConformance


class TestConformance(PluginConformance):
    plugin = "bmn"


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def log_records(work_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]


def first_json(text: str) -> dict:
    return json.JSONDecoder().raw_decode(text[text.index("{") :])[0]


def test_train_test_localize_through_action_run(tmp_path, one_thread, capsys):
    config = tiny_experiment(tmp_path, epochs=2)
    work = tmp_path / "run"
    assert run_cli(["train", str(config), "--work-dir", str(work)]) == 0
    final = json.loads(capsys.readouterr().out)
    assert 0.0 <= final["val/AUC"] <= 100.0 and final["best/AUC"] == max(
        r["val/AUC"] for r in log_records(work) if r.get("event") == "epoch_end"
    )
    steps = [r for r in log_records(work) if "train/loss" in r]
    assert len(steps) == 8 and all(
        {"train/tem_loss", "train/pem_reg_loss", "train/pem_cls_loss"} <= set(r) for r in steps
    )
    assert {"last.pth", "best.pth", "epoch_1.pth", "epoch_2.pth", "config.toml", "log.jsonl"} <= {
        p.name for p in work.iterdir()
    }
    # a work dir that holds a run is refused without --resume / --overwrite, as for recognizers
    assert run_cli(["train", str(config), "--work-dir", str(work)]) == 2
    assert "--resume" in capsys.readouterr().err

    out = tmp_path / "results.json"
    assert run_cli(["test", str(config), "--checkpoint", str(work / "last.pth"), "--out", str(out)]) == 0
    tested = json.loads(capsys.readouterr().out)
    assert tested["AUC"] == final["val/AUC"] and tested["num_samples"] == 3.0  # test split = val split
    assert set(read_activitynet_results(out)) == {f"val1_{i:03d}" for i in range(3)}  # v_ prefix dropped

    proposals = tmp_path / "proposals.json"
    argv = ["localize", "--checkpoint", str(work / "best.pth"), "--split", "val", "--out", str(proposals)]
    assert run_cli(argv) == 0  # the config stored in the checkpoint
    props = read_activitynet_results(proposals)
    assert set(props) == {f"val1_{i:03d}" for i in range(3)}
    assert all(0 < len(v) <= 100 for v in props.values())
    assert all(p["segment"][0] <= p["segment"][1] for v in props.values() for p in v)


def test_mixed_precision_trains(tmp_path, one_thread, capsys):
    config = tiny_experiment(tmp_path, epochs=2, videos=4)
    assert run_cli(["train", str(config), "--work-dir", str(tmp_path / "w"), "--amp", "bf16"]) == 0
    final = json.loads(capsys.readouterr().out)
    assert torch.isfinite(torch.tensor(final["train/epoch_loss"])) and 0.0 <= final["val/AUC"] <= 100.0


@pytest.mark.slow
def test_kill_9_then_resume_auto_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    # 8 videos, batch 2: 4 steps per epoch; last.pth every 3 steps, so the kill at step 7 (mid-epoch 2)
    # leaves a mid-epoch checkpoint of step 6 to resume from
    config = tiny_experiment(tmp_path, epochs=3, ckpt_iters=3)
    env = cli_env(install_killer(tmp_path / "site"))
    reference, work = tmp_path / "uninterrupted", tmp_path / "killed"
    done = action_run(["train", str(config), "--work-dir", str(reference)], env)
    assert done.returncode == 0, done.stderr[-3000:]

    killed = action_run(["train", str(config), "--work-dir", str(work)], {**env, "KILL_AT_STEP": "7"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    state = load_checkpoint(work / "last.pth")
    assert (state["epoch"], state["iteration"], state["batch_in_epoch"]) == (1, 6, 2)

    resumed = action_run(["train", str(config), "--work-dir", str(work), "--resume", "auto"], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    got, expected = load_checkpoint(work / "last.pth"), load_checkpoint(reference / "last.pth")
    assert got["iteration"] == expected["iteration"] == 12
    assert got["model"].keys() == expected["model"].keys()
    for key, value in expected["model"].items():
        assert torch.equal(got["model"][key], value), key
    assert got["history"] == expected["history"]
    assert [r["epoch"] for r in log_records(work) if r.get("event") == "epoch_end"] == [1, 2, 3]


@pytest.mark.slow
def test_torchrun_two_processes_give_the_metrics_of_one_process(tmp_path, one_thread, capsys):
    config = tiny_experiment(tmp_path, epochs=2)
    env = cli_env()
    work = tmp_path / "run"
    trained = action_run(["train", str(config), "--work-dir", str(work)], env, torchrun=2)
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    checkpoint = work / "last.pth"
    assert load_checkpoint(checkpoint)["meta"]["world_size"] == 2

    test_args = ["test", str(config), "--checkpoint", str(checkpoint)]
    two = action_run([*test_args, "--out", str(tmp_path / "two.json")], env, torchrun=2)
    assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    assert run_cli([*test_args, "--out", str(tmp_path / "one.json")]) == 0
    # 3 videos over 2 ranks (2 + 1): each counted once, the same AR@AN and AUC
    metrics_two = first_json(two.stdout)  # every rank prints the metrics
    metrics_one = first_json(capsys.readouterr().out)
    assert metrics_two == metrics_one and metrics_one["num_samples"] == 3.0
    assert {"AR@1", "AR@5", "AR@10", "AR@100", "AUC"} <= set(metrics_one)
    # the same proposals; a video may share its batch with another on one rank and not on the other, so
    # scores agree to float rounding
    ours = read_activitynet_results(tmp_path / "two.json")
    reference = read_activitynet_results(tmp_path / "one.json")
    assert ours.keys() == reference.keys()
    for video, proposals in reference.items():
        got = [[*p["segment"], p["score"]] for p in ours[video]]
        assert np.allclose(got, [[*p["segment"], p["score"]] for p in proposals], rtol=0, atol=1e-5)
    # validation during distributed training scored the same checkpoint as a single process does
    last_epoch = [r for r in log_records(work) if r.get("event") == "epoch_end"][-1]
    assert last_epoch["val/AUC"] == metrics_one["AUC"] and last_epoch["val/AR@100"] == metrics_one["AR@100"]
