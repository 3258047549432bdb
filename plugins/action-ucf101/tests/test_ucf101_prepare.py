"""``action-run ucf101 prepare`` on a miniature copy: lists the pipeline trains on, rawframes, resume, doctor."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

import action_core as ac
from action_core.api import NotPreparedError, UnsafeArchiveError, build_dataloader, run_doctor, tiny_pipeline
from action_ucf101.annotations import shipped_classes
from action_ucf101.commands import main
from action_ucf101.example import make_copy


def test_prepare_then_train_loader_end_to_end(tmp_path: Path, capsys) -> None:
    make_copy(tmp_path, groups=4, clips=2)  # 3 classes x 8 clips = 24 videos
    os.remove(tmp_path / "UCF-101/YoYo/v_YoYo_g04_c02.avi")
    (tmp_path / "UCF-101/YoYo/v_YoYo_g03_c02.avi").write_bytes(b"not a video")
    code = main(
        [
            "prepare",
            "--root",
            str(tmp_path),
            "--splits",
            "1",
            "--rawframes",
            "--workers",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "train_split1: 18 annotated, 17 found, 1 missing, 1 unreadable -> 16 in the list" in out
    lists = tmp_path / "lists"
    assert (lists / "ucf101_classes.txt").read_text().splitlines() == shipped_classes()
    rows = (lists / "ucf101_train_split1_videos.txt").read_text().splitlines()
    assert rows[0] == "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi 0" and len(rows) == 16
    assert "UCF-101/HandstandPushups/v_HandStandPushups_g02_c01.avi 36" in rows

    for modality in ("video", "rawframes"):
        ds = ac.build_dataset(
            "ucf101",
            split="train",
            root=str(tmp_path),
            pipeline=tiny_pipeline(),
            test_mode=False,
            modality=modality,
        )
        assert len(ds) == 16
        batch = next(iter(build_dataloader(ds, batch_size=4, num_workers=0, shuffle=True, seed=1)))
        assert batch["inputs"].shape == (4, 1, 2, 3, 24, 32) and batch["label"].dtype == torch.int64
    test = ac.build_dataset(
        "ucf101", split="test", root=str(tmp_path), pipeline=tiny_pipeline(), test_mode=True
    )
    assert sorted({int(test[i]["label"]) for i in range(len(test))}) == [0, 36, 100]

    again = main(["prepare", "--root", str(tmp_path), "--splits", "1", "--rawframes", "--no-progress"])
    assert again == 0 and "rawframes: 0 extracted, 16 already done" in capsys.readouterr().out


def test_doctor_on_the_registered_dataset(tmp_path: Path) -> None:
    make_copy(tmp_path, groups=2, clips=1)
    os.remove(tmp_path / "UCF-101/YoYo/v_YoYo_g02_c01.avi")
    (tmp_path / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi").write_bytes(b"")
    report = run_doctor(
        ["ucf101", "--root", str(tmp_path), "--split", "train", "--report", str(tmp_path / "r.json")]
    )
    assert report.num_classes == 101
    assert {(Path(f.path).name, f.kind) for f in report.faults} == {
        ("v_YoYo_g02_c01.avi", "missing"),
        ("v_ApplyEyeMakeup_g02_c01.avi", "empty"),
    }


def test_prepare_unpacks_the_official_split_archive_and_refuses_traversal(tmp_path: Path, capsys) -> None:
    root = tmp_path / "ucf101"
    make_copy(root, groups=2, clips=1)
    splits = root / "ucfTrainTestlist"
    archive = tmp_path / "UCF101TrainTestSplits-RecognitionTask.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(splits.iterdir()):
            zf.write(f, f"ucfTrainTestlist/{f.name}")
    shutil.rmtree(splits)
    assert (
        main(["prepare", "--root", str(root), "--extract", str(archive), "--splits", "1", "--no-progress"])
        == 0
    )
    assert (root / "lists/ucf101_train_split1_videos.txt").read_text().count("\n") == 3

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("ucfTrainTestlist/classInd.txt", "1 ApplyEyeMakeup\n")
        zf.writestr("../../escaped.txt", "pwned")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UnsafeArchiveError, match=r"member '\.\./\.\./escaped\.txt'"):
        main(["prepare", "--root", str(root), "--extract", str(evil), "--no-progress"])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert (root / "ucfTrainTestlist/classInd.txt").read_text().count("\n") == 101


def test_rawframes_or_lists_before_prepare_say_what_to_run(tmp_path: Path) -> None:
    make_copy(tmp_path, groups=2, clips=1)
    with pytest.raises(NotPreparedError, match="prepare --root .* --rawframes"):
        ac.build_dataset(
            "ucf101", split="train", root=str(tmp_path), pipeline=[], test_mode=False, modality="rawframes"
        )
    with pytest.raises(NotPreparedError, match="no prepared list"):
        ac.build_dataset(
            "ucf101", split="train", root=str(tmp_path), pipeline=[], test_mode=False, source="lists"
        )
    ds = ac.build_dataset(
        "ucf101", split="train", root=str(tmp_path), pipeline=[], test_mode=False, source="annotations"
    )
    assert len(ds) == 3
