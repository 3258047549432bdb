"""``action-run sthv1/sthv2 prepare`` on miniature copies: lists the pipeline trains on, flips swap labels."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import action_core as ac
from action_core.api import build_dataloader, tiny_pipeline
from action_something.commands import main_v1, main_v2
from action_something.datasets import sthv2_flip_label_map
from action_something.example import make_v1_copy, make_v2_copy


def test_sthv2_prepare_then_loader_with_label_flips(tmp_path: Path, capsys) -> None:
    make_v2_copy(tmp_path, per_class=6)  # 3 templates x 8 clips
    os.remove(tmp_path / "20bn-something-something-v2/78687.webm")
    assert main_v2(["prepare", "--root", str(tmp_path), "--no-progress", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "train: 18 annotated, 17 found, 1 missing" in out and "test: 3 annotated, 3 found" in out
    rows = (tmp_path / "lists/sthv2_train_videos.txt").read_text().splitlines()
    assert rows[0] == "20bn-something-something-v2/78688.webm 93"
    pipeline = tiny_pipeline()
    pipeline.insert(2, {"type": "Flip", "flip_ratio": 1.0, "flip_label_map": sthv2_flip_label_map()})
    ds = ac.build_dataset("sthv2", split="train", root=str(tmp_path), pipeline=pipeline, test_mode=False)
    labels = sorted(int(ds[i]["label"]) for i in range(len(ds)))
    assert labels == [93] * 6 + [94] * 5 + [102] * 6  # always flipped: left-to-right and right-to-left swap
    batch = next(iter(build_dataloader(ds, batch_size=4, num_workers=0, shuffle=True, seed=0)))
    assert batch["inputs"].shape == (4, 1, 2, 3, 24, 32)


def test_sthv1_frames_prepare_then_loader(tmp_path: Path, capsys) -> None:
    make_v1_copy(tmp_path, per_class=2)
    shutil.rmtree(tmp_path / "20bn-something-something-v1/100219")
    (tmp_path / "20bn-something-something-v1/100222/00001.jpg").write_bytes(b"broken")
    assert main_v1(["prepare", "--root", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "train: 6 annotated, 5 found, 1 missing, 1 unreadable -> 4 in the list" in out
    rows = (tmp_path / "lists/sthv1_train_rawframes.txt").read_text().splitlines()
    assert rows == [
        "20bn-something-something-v1/100218 8 30",
        "20bn-something-something-v1/100223 8 41",
        "20bn-something-something-v1/100226 8 0",
        "20bn-something-something-v1/100227 8 0",
    ]
    ds = ac.build_dataset(
        "sthv1", split="train", root=str(tmp_path), pipeline=tiny_pipeline(), test_mode=False
    )
    assert len(ds) == 4
    batch = next(iter(build_dataloader(ds, batch_size=4, num_workers=0, shuffle=False, seed=0)))
    assert batch["label"].tolist() == [30, 41, 0, 0] and batch["inputs"].shape == (4, 1, 2, 3, 24, 32)
