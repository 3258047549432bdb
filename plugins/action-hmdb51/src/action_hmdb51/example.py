"""A tiny real HMDB51 copy in the official layout, for the conformance kit and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from action_core.api import tiny_pipeline, write_video

CLASSES = ("brush_hair", "draw_sword", "wave")


def make_copy(
    root: Path, *, per_class: int = 3, num_frames: int = 8, classes: tuple[str, ...] = CLASSES
) -> Path:
    """``root/hmdb51_org/<class>/*.avi`` and ``root/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt``.

    Rows rotate through the flags 1 (train), 2 (test) and 0 (unused), with the official trailing space.
    """
    ann = root / "testTrainMulti_7030_splits"
    ann.mkdir(parents=True, exist_ok=True)
    for k, cls in enumerate(classes):
        names = [f"April_09_{cls}_u_nm_np1_ba_goo_{i}.avi" for i in range(per_class)]
        for i, name in enumerate(names):
            write_video(
                root / "hmdb51_org" / cls / name, num_frames=num_frames, width=32, height=24, seed=k * 7 + i
            )
        for n in (1, 2, 3):
            flags = [("1", "2", "0")[(i + n - 1) % 3] for i in range(per_class)]
            (ann / f"{cls}_test_split{n}.txt").write_text(
                "".join(f"{nm} {fl} \n" for nm, fl in zip(names, flags))
            )
    return root


def tiny_hmdb51(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a 6-clip HMDB51 copy made in ``tmp_dir`` (3 training clips in split 1)."""
    make_copy(Path(tmp_dir), per_class=2)
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}
