"""``action-run kinetics400 prepare`` on a miniature copy with missing clips: reported, not fatal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import action_core as ac
from action_core.api import build_dataloader, tiny_pipeline
from action_kinetics.commands import main400
from action_kinetics.example import make_copy


@pytest.mark.parametrize("per_class_dirs", [False, True])
def test_prepare_reports_missing_clips_and_writes_lists(tmp_path: Path, capsys, per_class_dirs: bool) -> None:
    make_copy(tmp_path, per_class=8, missing=3, is_cc=True, per_class_dirs=per_class_dirs)  # 24 + 3 clips
    assert main400(["prepare", "--root", str(tmp_path), "--no-progress", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "train: 24 annotated, 21 found, 3 missing, 0 unreadable -> 21 in the list" in out
    assert "val: 3 annotated, 3 found" in out and "test: 2 annotated, 0 found, 2 missing" in out
    rows = (tmp_path / "lists/kinetics400_train_videos.txt").read_text().splitlines()
    assert len(rows) == 21 and rows[0].endswith("_000000_000010.mp4 0")
    assert (tmp_path / "lists/kinetics400_classes.txt").read_text().splitlines() == [
        "abseiling",
        "air_drumming",
        "passing_American_football_(in_game)",
    ]
    ds = ac.build_dataset(
        "kinetics400", split="train", root=str(tmp_path), pipeline=tiny_pipeline(), test_mode=False
    )
    assert len(ds) == 21
    batch = next(iter(build_dataloader(ds, batch_size=7, num_workers=0, shuffle=True, seed=0)))
    assert batch["inputs"].shape == (7, 1, 2, 3, 24, 32)


def test_building_from_the_csvs_leaves_missing_clips_out_with_a_warning(tmp_path: Path, caplog) -> None:
    make_copy(tmp_path, per_class=2, missing=2)
    with caplog.at_level(logging.WARNING, logger="action_core.datasets"):
        ds = ac.build_dataset(
            "kinetics600", split="train", root=str(tmp_path), pipeline=tiny_pipeline(), test_mode=False
        )
    assert len(ds) == 4 and "2 of 6 annotated clips have no media file" in caplog.text
    assert [r.label for r in ds.records] == [0, 0, 1, 1]
    with pytest.raises(FileNotFoundError, match="2 of 6"):
        ac.build_dataset(
            "kinetics600", split="train", root=str(tmp_path), pipeline=[], test_mode=False, missing="error"
        )
