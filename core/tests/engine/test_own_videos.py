"""Issue 18 in the engine: `train --videos DIR` on a class folder, fine-tuning (`--from`, `--freeze`, the
learning-rate presets), self-contained checkpoints that never reach for initial weights, and retention."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import tomli_w
import torch
from test_video_predict import PIPELINE, write_clip
from tinyparts import PLUGIN_SOURCE, TinyRecognizer3D
from torch import nn

from action_core.cli.main import main
from action_core.cli.tools import build_model_from_source
from action_core.engine.builders import build_optimizer
from action_core.engine.checkpoint import (
    CheckpointError,
    check_model_type,
    load_checkpoint,
    save_checkpoint,
)
from action_core.engine.commands import run_predict, run_test, run_train, training_config
from action_core.engine.finetune import freeze, load_initial_weights
from action_core.engine.schema import OptimConfig
from action_core.errors import ConfigError

TRAIN = [{**PIPELINE[0], "test_mode": False}, *PIPELINE[1:]]


@pytest.fixture
def registered(make_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from action_core.plugins import host as plugin_host

    monkeypatch.setattr(plugin_host, "_HOST", None)
    make_plugin("owntiny", PLUGIN_SOURCE)


def _videos(root: Path, classes: tuple[str, ...] = ("clap", "wave", "jump"), per_class: int = 3) -> Path:
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            write_clip(root / name / f"{i}.mp4", frames=8, size=(24, 32))
    return root


def _recipe(path: Path, **model_args: Any) -> Path:
    """A recipe for a 3D model on real videos (its dataset arguments are replaced by --videos)."""
    config = {
        "model": {"type": "tiny3d", "num_classes": 4, "args": model_args},
        "data": {
            "dataset": "tiny",
            "batch_size": 4,
            "workers": 0,
            "train": {"split": "train", "pipeline": TRAIN, "args": {"length": 24}},
            "val": {"split": "val", "pipeline": PIPELINE, "args": {"length": 8}},
            "test": {"split": "test", "pipeline": PIPELINE, "args": {"length": 8}},
        },
        "optim": {"lr": 0.05},
        "schedule": {"epochs": 3, "policy": "cosine"},
    }
    path.write_text(tomli_w.dumps(config))
    return path


def test_train_on_a_class_folder_and_use_the_checkpoint_without_its_initial_weights(
    tmp_path: Path, registered: None
) -> None:
    videos = _videos(tmp_path / "my videos")
    init = save_checkpoint({"model": TinyRecognizer3D(num_classes=3).state_dict()}, tmp_path / "init.pth")
    recipe = _recipe(tmp_path / "recipe.toml", weights=str(init))
    work = tmp_path / "work"
    run_train(recipe, videos=videos, work_dir=work, overrides=["train.keep_ckpts=1"])

    lists = work / "lists"
    assert (lists / "classes.txt").read_text() == "clap\njump\nwave\n"  # sorted folder names
    assert sum(len((lists / f"{s}.txt").read_text().splitlines()) for s in ("train", "val", "test")) == 9
    # retention: the newest epoch file, last and best
    assert sorted(p.name for p in work.glob("*.pth")) == ["best.pth", "epoch_3.pth", "last.pth"]

    meta = load_checkpoint(work / "best.pth")["meta"]
    assert meta["classes"] == ["clap", "jump", "wave"]
    assert "weights" not in meta["config"]["model"].get("args", {})
    assert meta["config"]["data"]["dataset"] == "video_folder" and meta["config"]["model"]["num_classes"] == 3
    assert meta["input"] == {
        "frames": 4, "size": [8, 8], "mean": [128, 128, 128], "std": [64, 64, 64], "format": "NCTHW"
    }  # fmt: skip
    assert meta["model_type"]["type"] == "tiny3d"

    init.unlink()  # the initial weights are gone (or offline): the checkpoint alone suffices
    out = tmp_path / "results.json"
    metrics = run_test(None, work / "best.pth", out=out)  # no config: the checkpoint's, its test split
    assert metrics["num_samples"] == 3
    document = json.loads(out.read_text())
    assert document["classes"] == ["clap", "jump", "wave"]
    for sample in document["samples"]:
        assert Path(sample["path"]).parent.name == sample["label_name"]
        assert abs(sum(sample["probs"]) - 1) < 1e-4 and len(sample["top_k"]) == 3
        assert sample["top_k"][0][1] == max(sample["probs"])
    assert run_test(None, work / "best.pth", views="2x3")["num_samples"] == 3
    top = run_predict(videos / "wave" / "0.mp4", work / "best.pth", top_k=3)
    assert {name for name, _ in top} == {"clap", "jump", "wave"}
    model = build_model_from_source(str(work / "best.pth"), checkpoint=str(work / "best.pth"))
    assert model.input_spec["size"] == [8, 8]
    # export with the recipe (whose [model.args] still names the deleted weights file) reads no initial weights
    exported = build_model_from_source(str(recipe), num_classes=3, checkpoint=str(work / "best.pth"))
    assert torch.equal(exported.head[1].weight, model.head[1].weight)


def test_config_show_videos_prints_what_train_builds(
    tmp_path: Path, registered: None, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = _videos(tmp_path / "videos", per_class=3)
    recipe = _recipe(tmp_path / "recipe.toml")
    assert (
        main(["config", "show", str(recipe), "--videos", str(videos), "--work-dir", str(tmp_path / "w")]) == 0
    )
    shown = capsys.readouterr().out
    assert 'dataset = "video_folder"' in shown and "num_classes = 3" in shown and "length" not in shown
    assert not (tmp_path / "w" / "lists").exists()  # showing writes nothing


def test_a_broken_video_stops_training_before_it_starts(tmp_path: Path, registered: None) -> None:
    from action_core.engine.videos import DataCheckError

    videos = _videos(tmp_path / "videos", classes=("a", "b"))
    (videos / "b" / "1.mp4").write_bytes(b"not a video")
    with pytest.raises(DataCheckError, match=r"b/1\.mp4") as caught:
        run_train(_recipe(tmp_path / "recipe.toml"), videos=videos, work_dir=tmp_path / "work")
    assert "doctor" in str(caught.value)
    assert not (tmp_path / "work" / "last.pth").exists()


def test_fine_tuning_reinitialises_a_head_of_another_class_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = TinyRecognizer3D(num_classes=4)
    saved = save_checkpoint({"model": source.state_dict()}, tmp_path / "source.pth")
    target = TinyRecognizer3D(num_classes=3)
    with caplog.at_level(logging.WARNING, logger="action_core.engine"):
        report = load_initial_weights(target, str(saved))
    assert sorted(report.reinitialised) == ["head.1.bias", "head.1.weight"]
    assert "re-initialised (another shape in the checkpoint): head.1.weight, head.1.bias" in caplog.text
    for key, value in source.backbone.state_dict().items():
        assert torch.equal(target.backbone.state_dict()[key], value), key
    assert target.head[1].weight.shape == (3, 32)


class _Staged(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.conv1 = nn.Conv2d(3, 4, 3)
        self.backbone.bn1 = nn.BatchNorm2d(4)
        self.backbone.layer1 = nn.Sequential(nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4))
        self.backbone.layer2 = nn.Conv2d(4, 4, 3)
        self.head = nn.Linear(4, 2)


def test_freeze_backbone_or_its_first_stages() -> None:
    model = _Staged()
    frozen = freeze(model, "stages<=1")
    assert frozen.names == ["backbone.conv1", "backbone.bn1", "backbone.layer1"]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"backbone.layer2.weight", "backbone.layer2.bias", "head.weight", "head.bias"}
    model.train()
    frozen.set_eval()
    assert not model.backbone.bn1.training and model.backbone.layer2.training
    whole = _Staged()
    freeze(whole, "backbone")
    assert {n for n, p in whole.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}
    with pytest.raises(ConfigError, match="has 2 stages"):
        freeze(_Staged(), "stages<=3")
    with pytest.raises(ConfigError, match="no stages this option knows"):
        freeze(TinyRecognizer3D(), "stages<=1")


def test_the_backbone_learns_at_its_multiplier_and_frozen_parameters_are_left_out() -> None:
    model = _Staged()
    freeze(model, "stages<=1")
    optimizer = build_optimizer(model, OptimConfig(lr=0.1, backbone_lr_mult=0.1))
    by_lr = {round(g["lr"], 6): {id(p) for p in g["params"]} for g in optimizer.param_groups}
    assert by_lr[0.1] == {id(model.head.weight), id(model.head.bias)}
    assert by_lr[0.01] == {id(model.backbone.layer2.weight), id(model.backbone.layer2.bias)}
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_from_and_freeze_set_the_fine_tuning_options(tmp_path: Path, registered: None) -> None:
    recipe = _recipe(tmp_path / "recipe.toml")
    cfg, _ = training_config(recipe, init_from="some.pth")
    assert (cfg.train.load_from, cfg.optim.backbone_lr_mult, cfg.optim.lr) == ("some.pth", 0.1, 0.05)
    cfg, _ = training_config(recipe, init_from="some.pth", freeze="backbone")
    assert (cfg.train.freeze, cfg.optim.backbone_lr_mult) == ("backbone", 1.0)
    cfg, _ = training_config(recipe, ["optim.backbone_lr_mult=0.5"], init_from="some.pth")
    assert cfg.optim.backbone_lr_mult == 0.5  # --set wins over the preset
    with pytest.raises(ConfigError, match="stages<=N"):
        training_config(recipe, freeze="layers")
    with pytest.raises(ConfigError, match="--label-map names the classes of --videos"):
        training_config(recipe, label_map="classes.txt")


def test_a_checkpoint_of_another_model_type_is_refused_naming_both() -> None:
    state = {
        "meta": {
            "model_type": {
                "type": "tsn_r50",
                "composite": "Recognizer2D",
                "parts": {"backbone": "resnet", "head": "tsn_head"},
            }
        }
    }
    with pytest.raises(
        CheckpointError, match=r"holds a tsn_r50 \(Recognizer2D: backbone resnet, head tsn_head\)"
    ):
        check_model_type(state, {"type": "tiny3d", "num_classes": 4}, source="checkpoint 'x.pth'")
    check_model_type({"meta": {}}, {"type": "tiny3d"}, source="old")  # no recorded type: accepted
