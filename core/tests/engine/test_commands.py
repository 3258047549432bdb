"""The library side of `action-run train / test / predict`: config file + overrides → run → files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from test_video_predict import PIPELINE, frames_of, write_clip
from tinyparts import PLUGIN_SOURCE

from action_core.engine.commands import load_experiment, read_label_map, run_predict, run_test, run_train
from action_core.errors import ConfigError


@pytest.fixture
def registered(make_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from action_core.plugins import host as plugin_host

    monkeypatch.setattr(plugin_host, "_HOST", None)
    make_plugin("enginetiny", PLUGIN_SOURCE)


def write_config(path: Path) -> Path:
    config = {
        "model": {"type": "tiny3d", "num_classes": 4},
        "data": {
            "dataset": "tiny",
            "batch_size": 8,
            "workers": 0,
            "train": {"split": "train", "args": {"length": 24}},
            "val": {"split": "val", "args": {"length": 8}},
            "test": {"split": "test", "pipeline": PIPELINE, "args": {"length": 11}},
        },
        "optim": {"lr": 0.1},
        "schedule": {"epochs": 1, "policy": "cosine"},
        "train": {"log_interval": 1},
    }
    path.write_text(tomli_w.dumps(config))
    return path


def test_overrides_and_shortcuts_are_validated_with_the_source_named(tmp_path: Path) -> None:
    source = write_config(tmp_path / "exp.toml")
    cfg = load_experiment(source, ["optim.lr=0.02", "schedule.epochs=3"], amp="bf16", seed=7, data_root="/d")
    assert (cfg.optim.lr, cfg.schedule.epochs, cfg.train.amp, cfg.train.seed, cfg.data.root) == (
        0.02, 3, "bf16", 7, "/d",
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"exp\.toml: train\.amp = 'fp4' is not allowed"):
        load_experiment(source, amp="fp4")
    with pytest.raises(ConfigError, match=r"unknown key optim\.learning_rate"):
        load_experiment(source, ["optim.learning_rate=1"])


def test_train_test_predict_end_to_end(tmp_path: Path, registered: None) -> None:
    source = write_config(tmp_path / "exp.toml")
    work_dir = tmp_path / "work"
    final = run_train(source, overrides=["optim.lr=0.05"], work_dir=work_dir, seed=3)
    assert "val/top1" in final
    saved = tomllib.loads((work_dir / "config.toml").read_text())
    assert saved["optim"]["lr"] == 0.05 and saved["train"]["seed"] == 3
    again = run_train(source, overrides=["optim.lr=0.05"], work_dir=work_dir, seed=3, resume="auto")
    assert again == final  # already complete: resuming trains nothing more and reports the last metrics

    out = tmp_path / "results.json"
    metrics = run_test(source, work_dir / "last.pth", out=out, overrides=["data.test.pipeline=[]"])
    assert metrics["num_samples"] == 11 and json.loads(out.read_text())["metrics"] == metrics

    video = write_clip(tmp_path / "clip.mp4")
    labels = tmp_path / "labels.txt"
    labels.write_text("walk\nrun\n\njump\nswim\n")
    assert read_label_map(labels) == ["walk", "run", "jump", "swim"]
    top = run_predict(video, work_dir / "last.pth", label_map=labels, top_k=2, out_video=tmp_path / "o.mp4")
    assert len(top) == 2 and all(name in {"walk", "run", "jump", "swim"} for name, _ in top)
    assert len(frames_of(tmp_path / "o.mp4")) == len(frames_of(video))
    stored_names = run_predict(video, work_dir / "last.pth", top_k=4)  # classes stored in the checkpoint
    assert {n for n, _ in stored_names} == {"class_0", "class_1", "class_2", "class_3"}


def test_cli_train_into_a_used_work_dir_needs_resume_or_overwrite(
    tmp_path: Path, registered: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from action_core.cli.main import main

    source = write_config(tmp_path / "exp.toml")
    work_dir = tmp_path / "work"
    args = ["train", str(source), "--work-dir", str(work_dir)]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2  # a plain re-run no longer appends to the old run's log
    err = capsys.readouterr().err
    assert "already holds a run (best.pth, epoch_1.pth, last.pth, log.jsonl)" in err
    assert "--resume auto" in err and "--overwrite" in err
    assert main([*args, "--overwrite"]) == 0
    assert main([*args, "--resume", "auto"]) == 0
    log = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log if r.get("event") == "epoch_end"] == [1]
    # iteration records name the epoch they belong to the same way (1-based), not the epochs completed
    assert {r["epoch"] for r in log if "train/loss" in r and r.get("event") is None} == {1}
