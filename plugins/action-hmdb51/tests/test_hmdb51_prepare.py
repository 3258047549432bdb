"""``action-run hmdb51 prepare`` on a miniature copy: lists the pipeline trains on, rawframes, resume."""

from __future__ import annotations

from pathlib import Path

import action_core as ac
from action_core.api import build_dataloader, tiny_pipeline
from action_hmdb51.commands import main
from action_hmdb51.example import make_copy


def test_prepare_then_train_loader_end_to_end(tmp_path: Path, capsys) -> None:
    make_copy(tmp_path, per_class=9)  # 27 videos, 3 train / 3 test / 3 unused per class and split
    (tmp_path / "hmdb51_org/wave/stray.avi").write_bytes(b"")
    assert main(["prepare", "--root", str(tmp_path), "--rawframes", "--no-progress", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "train_split1: 9 annotated, 9 found, 0 missing, 0 unreadable -> 9 in the list" in out
    assert "1 media file(s) named by no annotation: hmdb51_org/wave/stray.avi" in out
    rows = (tmp_path / "lists/hmdb51_train_split2_videos.txt").read_text().splitlines()
    assert rows[0] == "hmdb51_org/brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_2.avi 0"
    for modality in ("video", "rawframes"):
        ds = ac.build_dataset(
            "hmdb51",
            split="val",
            root=str(tmp_path),
            pipeline=tiny_pipeline(),
            test_mode=True,
            split_number=3,
            modality=modality,
        )
        assert len(ds) == 9 and ds.classes == ["brush_hair", "draw_sword", "wave"]
        batch = next(iter(build_dataloader(ds, batch_size=3, num_workers=0, shuffle=False, seed=0)))
        assert batch["inputs"].shape == (3, 1, 2, 3, 24, 32) and batch["label"].tolist() == [0, 0, 0]
    assert main(["prepare", "--root", str(tmp_path), "--rawframes", "--splits", "1", "--no-progress"]) == 0
    assert "rawframes: 0 extracted, 9 already done" in capsys.readouterr().out
