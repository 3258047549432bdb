"""Tiny real Moments in Time / Multi-Moments in Time copies in the official layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_core.api import tiny_pipeline, write_video
from action_mit.annotations import shipped_classes

MIT_CLASSES = ("blocking", "clapping", "adult+female+speaking")


def make_mit_copy(root: Path, *, per_class: int = 2, num_frames: int = 8) -> Path:
    """``root/Moments_in_Time_Raw/{training,validation}/<class>/<clip>.mp4`` and the three official files."""
    top = root / "Moments_in_Time_Raw"
    top.mkdir(parents=True, exist_ok=True)
    classes = shipped_classes("mit")
    (top / "moments_categories.txt").write_text("".join(f"{c},{i}\n" for i, c in enumerate(classes)))
    for split, file, n in (
        ("training", "trainingSet.csv", per_class),
        ("validation", "validationSet.csv", 1),
    ):
        rows = []
        for k, cls in enumerate(MIT_CLASSES):
            for i in range(n):
                clip = f"{cls}/getty-video-id63580862{k}_{i}.mp4"
                write_video(top / split / clip, num_frames=num_frames, seed=k * 5 + i)
                rows.append(f"{clip},{cls},3,{i}")
        (top / file).write_text("".join(f"{r}\n" for r in rows))
    return root


def make_mmit_copy(root: Path, *, clips: int = 6, num_frames: int = 8) -> Path:
    """``root/Multi_Moments_in_Time/videos/{training,validation}/<clip>.mp4``, the CSVs and the categories."""
    top = root / "Multi_Moments_in_Time"
    top.mkdir(parents=True, exist_ok=True)
    (top / "moments_categories.txt").write_text(
        "".join(f"{c},{i}\n" for i, c in enumerate(shipped_classes("mmit")))
    )
    for split, file, n in (("training", "trainingSet.csv", clips), ("validation", "validationSet.csv", 2)):
        rows = []
        for i in range(n):
            clip = f"0-3-6-2-9-1-2-6-1460362912{i}_{len(split)}.mp4"
            write_video(top / "videos" / split / clip, num_frames=num_frames, seed=i)
            labels = [12, 40] if i % 2 else [312]
            rows.append(",".join([clip, *map(str, labels)]))
        (top / file).write_text("".join(f"{r}\n" for r in rows))
    return root


def tiny_mit(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a 6-clip Moments in Time copy made in ``tmp_dir``."""
    make_mit_copy(Path(tmp_dir))
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}


def tiny_mmit(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a 6-clip Multi-Moments in Time copy made in ``tmp_dir``."""
    make_mmit_copy(Path(tmp_dir))
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}
