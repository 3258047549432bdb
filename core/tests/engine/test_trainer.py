"""The training loop on a tiny real recognizer and generated clips: learning, determinism, NaN stop,
mixed precision, memory format, callbacks and the files a run leaves behind."""

from __future__ import annotations

import json
import tomllib
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from tinyparts import PLUGIN_SOURCE, ClipDataset, TinyRecognizer3D, evolve_train, tiny_config
from torch.utils.data import DataLoader

from action_core.engine.checkpoint import load_checkpoint
from action_core.engine.inference import evaluate
from action_core.engine.schema import ExperimentConfig
from action_core.engine.trainer import NonFiniteLossError, Trainer


def datasets(**train_kwargs: Any) -> dict[str, ClipDataset]:
    return {"train": ClipDataset(64, seed=1, **train_kwargs), "val": ClipDataset(37, seed=2, augment=False)}


def make_trainer(tmp_path: Path, cfg: ExperimentConfig | None = None, **kwargs: Any) -> Trainer:
    cfg = cfg or tiny_config()
    kwargs.setdefault("datasets", datasets())
    return Trainer(cfg, work_dir=tmp_path, model=TinyRecognizer3D, progress=False, **kwargs)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def action_on_train_start(self, run: Trainer) -> None:
        self.events.append(("start", run.epoch))

    def action_on_log(self, run: Trainer, step: int, scalars: dict[str, float]) -> None:
        self.events.append(("log", step))

    def action_on_epoch_end(self, run: Trainer, epoch: int, metrics: dict[str, float]) -> None:
        self.events.append(("epoch", epoch, sorted(metrics)))

    def action_on_train_end(self, run: Trainer, metrics: dict[str, float]) -> None:
        self.events.append(("end", metrics["val/top1"]))


class Broken:
    def action_on_log(self, run: Trainer, step: int, scalars: dict[str, float]) -> None:
        raise ValueError("observer bug")


def test_tiny_recognizer_learns_to_90_percent_and_leaves_a_complete_work_dir(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, callbacks=[Recorder(), Broken()])
    val_loader = DataLoader(datasets()["val"], batch_size=8)
    before = evaluate(trainer.model, val_loader, metrics=["top1"], progress=False)["top1"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        final = trainer.fit()
    assert before < 0.6  # chance is 0.25: the model starts ignorant
    assert final["val/top1"] >= 0.9 and final["val/mean_class_accuracy"] >= 0.9
    assert any("observer bug" in str(w.message) for w in caught)  # a failing callback warns, never stops

    recorder = trainer.callbacks.callbacks[-2]
    assert recorder.events[0] == ("start", 0) and recorder.events[-1] == ("end", final["val/top1"])
    epochs = [e for e in recorder.events if e[0] == "epoch"]
    assert [e[1] for e in epochs] == [1, 2, 3, 4]
    assert "val/top1" in epochs[0][2] and "train/epoch_loss" in epochs[0][2]
    assert trainer.iteration == 4 * 8

    names = {p.name for p in tmp_path.iterdir()}
    assert {"last.pth", "best.pth", "epoch_4.pth", "log.jsonl", "config.toml", "curves.png"} <= names
    assert "confusion_matrix.png" in names
    for png in ("curves.png", "confusion_matrix.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in lines if "train/loss" in r]
    assert steps == list(range(1, 33))  # log_interval = 1
    assert sum(r.get("event") == "epoch_end" for r in lines) == 4
    saved = ExperimentConfig.from_dict(tomllib.loads((tmp_path / "config.toml").read_text()))
    assert saved == trainer.cfg
    best = load_checkpoint(tmp_path / "best.pth")
    assert best["best"]["value"] == max(v for _, v in trainer.history["val/top1"])
    assert load_checkpoint(tmp_path / "last.pth")["meta"]["classes"] == ClipDataset.classes


def loss_curve(tmp_path: Path, seed: int) -> tuple[list[float], dict[str, torch.Tensor]]:
    cfg = evolve_train(tiny_config(schedule={"epochs": 2}), seed=seed, val_interval=0)
    trainer = make_trainer(tmp_path, cfg)
    trainer.fit()
    return [y for _, y in trainer.history["train/loss"]], trainer.model.state_dict()


def test_same_seed_gives_the_same_loss_curve(tmp_path: Path) -> None:
    first, weights_a = loss_curve(tmp_path / "a", seed=3)
    second, weights_b = loss_curve(tmp_path / "b", seed=3)
    other, _ = loss_curve(tmp_path / "c", seed=4)
    assert len(first) == 16
    assert first == second
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert other != first


class PoisonAfterFirstEpoch:
    """Makes one training item NaN from epoch 2 on (a corrupt sample showing up mid-run)."""

    def action_on_epoch_end(self, run: Trainer, epoch: int, metrics: dict[str, float]) -> None:
        run.datasets["train"].nan_at = 5


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = evolve_train(tiny_config(schedule={"epochs": 3}), val_interval=0)
    trainer = make_trainer(tmp_path, cfg, callbacks=[PoisonAfterFirstEpoch()])
    with pytest.raises(NonFiniteLossError) as info:
        trainer.fit()
    message = str(info.value)
    assert "loss became nan at epoch 2" in message and "dataset indices" in message and " 5" in message
    assert str(tmp_path / "last.pth") in message and "optim.lr" in message
    last = load_checkpoint(tmp_path / "last.pth")
    assert last["epoch"] == 1 and last["iteration"] == 8
    assert all(torch.isfinite(t).all() for t in last["model"].values())
    assert not (tmp_path / "epoch_2.pth").exists()
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())  # bad update never applied
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["train/non_finite_loss"] == 1.0


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_on_cpu_trains_and_checkpoints_the_scaler(tmp_path: Path, amp: str) -> None:
    cfg = evolve_train(tiny_config(schedule={"epochs": 1}, optim={"grad_clip": 5.0}), amp=amp, val_interval=0)
    trainer = make_trainer(tmp_path, cfg)
    trainer.fit()
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    losses = [r["train/loss"] for r in lines if "train/loss" in r]
    assert len(losses) == 8 and all(v is not None for v in losses)
    assert all("train/grad_norm" in r for r in lines if "train/loss" in r)
    state = load_checkpoint(tmp_path / "last.pth")
    if amp == "fp16":
        assert state["scaler"]["scale"] > 0 and "train/loss_scale" in lines[0]
        resumed = make_trainer(tmp_path / "again", cfg)
        resumed.resume(tmp_path / "last.pth")
        assert resumed.scaler.get_scale() == state["scaler"]["scale"]
    else:
        assert state["scaler"] is None


def test_channels_last_3d_weights_and_inputs(tmp_path: Path) -> None:
    cfg = evolve_train(tiny_config(schedule={"epochs": 1}), channels_last=True, val_interval=1)
    trainer = make_trainer(tmp_path, cfg)
    conv = trainer.model.backbone[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last_3d) and not conv.is_contiguous()
    final = trainer.fit()
    assert final["val/top1"] > 0.25


def test_best_metric_must_be_a_validation_metric(tmp_path: Path) -> None:
    cfg = evolve_train(tiny_config(schedule={"epochs": 1}), best_metric="mAP")
    from action_core.errors import ConfigError

    trainer = make_trainer(tmp_path, cfg)
    with pytest.raises(ConfigError, match=r"best_metric = 'mAP' is not among the validation metrics \(top1"):
        trainer.fit()
    assert trainer.iteration == 0  # refused before training, not after the first epoch


def test_registered_model_and_dataset_are_built_and_plugin_hooks_observe(
    tmp_path: Path, make_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from action_core.engine.callbacks import PluginHookCallback
    from action_core.plugins import get_host
    from action_core.plugins import host as plugin_host

    monkeypatch.setattr(plugin_host, "_HOST", None)
    make_plugin("enginetiny", PLUGIN_SOURCE)
    get_host().load_all()
    cfg = tiny_config(
        schedule={"epochs": 2},
        data={
            "train": {"split": "train", "args": {"length": 24}},
            "val": {"split": "val", "args": {"length": 9}},
        },
    )
    trainer = Trainer(cfg, work_dir=tmp_path, callbacks=[PluginHookCallback(get_host().hook)], progress=False)
    assert len(trainer.datasets["train"]) == 24 and len(trainer.datasets["val"]) == 9
    final = trainer.fit()
    seen = sys.modules["fake_enginetiny.plugin"].SEEN
    assert seen[0] == ("start", "tiny3d") and seen[-1] == ("end", 2 * 3)
    assert [e[1] for e in seen if e[0] == "epoch"] == [1, 2]
    assert seen[-2][2] == round(final["val/top1"], 6)


def test_core_recognizer2d_with_tsn_head_trains_and_tests_multi_view(tmp_path: Path) -> None:
    from torch import nn

    from action_core.engine.inference import test as run_test
    from action_core.models import Recognizer2D, TSNHead

    def build() -> nn.Module:
        # an 8x8 kernel sees the whole frame: the classes differ by where the bright half is
        backbone = nn.Sequential(nn.Conv2d(3, 8, 8), nn.BatchNorm2d(8), nn.ReLU())
        return Recognizer2D(backbone, TSNHead(4, 8, dropout_ratio=0.0))

    cfg = tiny_config(schedule={"epochs": 3}, test={"average": "prob", "metrics": ["top1"]})
    sets = {
        "train": ClipDataset(64, seed=1, layout="NTCHW"),
        "val": ClipDataset(24, seed=2, augment=False, layout="NTCHW"),
    }
    trainer = Trainer(cfg, work_dir=tmp_path, model=build, datasets=sets, progress=False)
    final = trainer.fit()
    assert final["val/top1"] >= 0.75
    test_set = ClipDataset(24, seed=4, views=3, augment=False, layout="NTCHW")
    assert test_set[0]["inputs"].shape == (3, 4, 3, 8, 8)  # (V, T, C, H, W)
    results = run_test(cfg, tmp_path / "best.pth", model=build(), dataset=test_set, progress=False)
    assert results["num_samples"] == 24 and results["top1"] >= 0.75
