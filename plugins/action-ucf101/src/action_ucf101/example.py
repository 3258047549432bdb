"""A tiny real UCF101 copy in the official layout, for the conformance kit and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_core.api import tiny_pipeline, write_video
from action_ucf101.annotations import shipped_classes

CLASSES = ("ApplyEyeMakeup", "HandstandPushups", "YoYo")


def make_copy(root: Path, *, groups: int = 2, clips: int = 2, num_frames: int = 8) -> Path:
    """``root/UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` and ``root/ucfTrainTestlist`` (official formats, CRLF)."""
    classes = shipped_classes()
    (root / "ucfTrainTestlist").mkdir(parents=True, exist_ok=True)
    (root / "ucfTrainTestlist" / "classInd.txt").write_bytes(
        "".join(f"{i} {c}\r\n" for i, c in enumerate(classes, start=1)).encode()
    )
    train, test = [], []
    for k, cls in enumerate(CLASSES):
        # The official files spell this class "HandStandPushups" inside the "HandstandPushups" folder.
        stem = "HandStandPushups" if cls == "HandstandPushups" else cls
        for g in range(1, groups + 1):
            for c in range(1, clips + 1):
                name = f"{cls}/v_{stem}_g{g:02d}_c{c:02d}.avi"
                write_video(
                    root / "UCF-101" / name, num_frames=num_frames, width=32, height=24, seed=k * 10 + g + c
                )
                (train if g > 1 else test).append((name, classes.index(cls) + 1))
    for n in (1, 2, 3):
        (root / "ucfTrainTestlist" / f"trainlist{n:02d}.txt").write_bytes(
            "".join(f"{name} {cid}\r\n" for name, cid in train).encode()
        )
        (root / "ucfTrainTestlist" / f"testlist{n:02d}.txt").write_bytes(
            "".join(f"{name}\r\n" for name, _ in test).encode()
        )
    return root


def tiny_ucf101(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a 12-clip UCF101 copy made in ``tmp_dir``."""
    make_copy(Path(tmp_dir), groups=2, clips=1)
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}
