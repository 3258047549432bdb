"""``action-run mit/mmit prepare`` on miniature copies; MMiT trains with BCE on multi-hot labels and mAP."""

from __future__ import annotations

from pathlib import Path

import torch

import action_core as ac
from action_core.api import (
    BCELossWithLogits,
    ExperimentConfig,
    build_dataloader,
    build_dataset_from_config,
    build_metrics,
    structure,
    tiny_pipeline,
)
from action_mit.commands import main, main_mmit
from action_mit.example import make_mit_copy, make_mmit_copy
from action_mit.presets import tsn_r101_1x1x5_50e_mmit_rgb


def test_mit_prepare_then_loader(tmp_path: Path, capsys) -> None:
    make_mit_copy(tmp_path, per_class=6)
    assert main(["prepare", "--root", str(tmp_path), "--no-progress", "--rawframes"]) == 0
    assert "train: 18 annotated, 18 found, 0 missing" in capsys.readouterr().out
    rows = (tmp_path / "lists/mit_train_videos.txt").read_text().splitlines()
    assert rows[0] == "Moments_in_Time_Raw/training/blocking/getty-video-id635808620_0.mp4 317"
    ds = ac.build_dataset(
        "mit", split="val", root=str(tmp_path), pipeline=tiny_pipeline(), test_mode=True, modality="rawframes"
    )
    assert [int(ds[i]["label"]) for i in range(len(ds))] == [317, 0, 169]


def test_mmit_prepare_then_bce_and_map_on_a_batch(tmp_path: Path, capsys) -> None:
    make_mmit_copy(tmp_path, clips=12)
    assert main_mmit(["prepare", "--root", str(tmp_path), "--no-progress"]) == 0
    assert "train: 12 annotated, 12 found" in capsys.readouterr().out
    rows = (tmp_path / "lists/mmit_train_videos.txt").read_text().splitlines()
    assert rows[:2] == [
        "Multi_Moments_in_Time/videos/training/0-3-6-2-9-1-2-6-14603629120_8.mp4 312",
        "Multi_Moments_in_Time/videos/training/0-3-6-2-9-1-2-6-14603629121_8.mp4 12 40",
    ]
    preset = tsn_r101_1x1x5_50e_mmit_rgb()
    preset["data"]["root"] = str(tmp_path)
    preset["data"]["train"]["pipeline"] = tiny_pipeline()
    cfg = structure(ExperimentConfig, preset, source="test")
    assert cfg.model.args["multi_label"] is True and cfg.test.metrics == ["mAP"]
    ds = build_dataset_from_config(cfg, "train")
    assert ds.multi_label and len(ds.classes) == 313
    batch = next(iter(build_dataloader(ds, batch_size=4, num_workers=0, shuffle=False, seed=0)))
    assert batch["label"].shape == (4, 313) and batch["label"].dtype == torch.float32
    assert batch["label"][1].nonzero().flatten().tolist() == [12, 40]
    logits = torch.full((4, 313), -5.0)
    logits[:, 312] = 5.0
    assert BCELossWithLogits()(logits, batch["label"]).item() > 0
    metric = build_metrics(cfg.test.metrics)[-1]
    metric.update(logits, batch["label"])
    assert 0.0 < metric.compute()["mAP"] <= 1.0
