"""Tiny real Something-Something copies in the official layouts, for the conformance kit and tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from action_core.api import tiny_pipeline, write_frames, write_video
from action_something.annotations import V1_FRAME_TEMPLATE, shipped_classes

V2_TEMPLATES = (
    "Pushing [something] from left to right",
    "Pushing [something] from right to left",
    "Putting [number of] [something] onto [something]",
)


def make_v1_copy(root: Path, *, per_class: int = 2, num_frames: int = 8) -> Path:
    """``root/20bn-something-something-v1/<id>/00001.jpg`` ... and the four ``something-something-v1-*.csv``."""
    classes = shipped_classes(1)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "something-something-v1-labels.csv").write_text(
        "".join(f"{c}\n" for c in classes)
    )
    rows: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    vid = 100218
    for c in (classes[30], classes[41], classes[0]):
        for split in ("train", "train", "validation", "test")[: per_class + 2]:
            write_frames(
                root / "20bn-something-something-v1" / str(vid),
                num_frames=num_frames,
                template=V1_FRAME_TEMPLATE,
                seed=vid,
            )
            rows[split].append(f"{vid}" if split == "test" else f"{vid};{c}")
            vid += 1
    for split, lines in rows.items():
        (root / "annotations" / f"something-something-v1-{split}.csv").write_text(
            "".join(f"{x}\n" for x in lines)
        )
    return root


def make_v2_copy(root: Path, *, per_class: int = 2, num_frames: int = 8) -> Path:
    """``root/20bn-something-something-v2/<id>.webm`` and the four ``something-something-v2-*.json``."""
    classes = shipped_classes(2)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "something-something-v2-labels.json").write_text(
        json.dumps({c: str(i) for i, c in enumerate(classes)}, indent=1)
    )
    items: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    vid = 78687
    for template in V2_TEMPLATES:
        for split in ("train",) * per_class + ("validation", "test"):
            write_video(
                root / "20bn-something-something-v2" / f"{vid}.webm", num_frames=num_frames, seed=vid % 97
            )
            filled = template.replace("[number of]", "2").replace("[something]", "a pen")
            entry = (
                {"id": str(vid)}
                if split == "test"
                else {"id": str(vid), "label": filled, "template": template, "placeholders": ["a pen"]}
            )
            items[split].append(entry)
            vid += 1
    for split, entries in items.items():
        (root / "annotations" / f"something-something-v2-{split}.json").write_text(
            json.dumps(entries, indent=1)
        )
    return root


def tiny_sthv1(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a tiny V1 copy made in ``tmp_dir``."""
    make_v1_copy(Path(tmp_dir))
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}


def tiny_sthv2(tmp_dir: Path) -> dict[str, Any]:
    """Builder kwargs for a tiny V2 copy made in ``tmp_dir``."""
    make_v2_copy(Path(tmp_dir))
    return {"split": "train", "root": str(tmp_dir), "pipeline": tiny_pipeline(), "test_mode": False}
