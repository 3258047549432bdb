"""A tiny real Kinetics copy in the official layout, for the conformance kit and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_core.api import tiny_pipeline, write_video

LABELS = ("abseiling", "air drumming", "passing American football (in game)")
HEADER = "label,youtube_id,time_start,time_end,split"


def make_copy(
    root: Path,
    *,
    per_class: int = 2,
    num_frames: int = 8,
    missing: int = 0,
    is_cc: bool = False,
    per_class_dirs: bool = False,
) -> Path:
    """``root/{train,val}/<clip>.mp4`` (or ``<class>/<clip>.mp4``) and ``root/annotations/{train,validate,test}.csv``.

    Rows follow the official CSVs: labels with spaces are quoted, times are written as ``10`` or ``10.0``,
    ids start with ``-`` or ``_``. The last ``missing`` training clips are annotated but not written, as in
    real copies; the test CSV has no label column and its clips are absent.
    """
    ann = root / "annotations"
    ann.mkdir(parents=True, exist_ok=True)
    cc = ",0" if is_cc else ""
    clips = []  # (split, label, youtube_id, start)
    for split, count in (("train", per_class), ("val", 1)):
        for c, label in enumerate(LABELS):
            for i in range(count):
                clips.append(
                    (split, label, f"{'-_'[len(clips) % 2]}{split}{c}{i}{len(clips):04d}"[:11], 10 * i + c)
                )
    csv_rows: dict[str, list[str]] = {"train": [], "val": []}
    for n, (split, label, yid, start) in enumerate(clips):
        quoted = f'"{label}"' if " " in label else label
        end = f"{start + 10}.0" if n % 2 else f"{start + 10}"
        csv_rows[split].append(f"{quoted},{yid},{start},{end},{split}{cc}")
    train = [clip for clip in clips if clip[0] == "train"]
    absent = {clip[2] for clip in train[len(train) - missing :]} if missing else set()
    for split, label, yid, start in clips:
        if yid in absent:
            continue
        folder = root / split / (label.replace(" ", "_") if per_class_dirs else "")
        write_video(folder / f"{yid}_{start:06d}_{start + 10:06d}.mp4", num_frames=num_frames, seed=start)
    (ann / "train.csv").write_text(
        "".join(f"{r}\n" for r in [HEADER + cc.replace("0", "is_cc"), *csv_rows["train"]])
    )
    (ann / "validate.csv").write_text(
        "".join(f"{r}\n" for r in [HEADER + cc.replace("0", "is_cc"), *csv_rows["val"]])
    )
    test = [f"youtube_id,time_start,time_end,split{cc.replace('0', 'is_cc')}"]
    test += [f"tEsT{i}abcde,{i},{i + 10},test{cc}" for i in range(2)]
    (ann / "test.csv").write_text("".join(f"{r}\n" for r in test))
    return root


def tiny_kinetics(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a 6-clip Kinetics copy made in ``tmp_dir`` (any version: classes come from the CSV)."""
    make_copy(Path(tmp_dir), per_class=2)
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}
