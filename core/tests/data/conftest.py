"""Fixtures of the data tests (helpers live in data_helpers.py, importable under a unique name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import make_frames, make_video


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A few good videos, a frame folder and a set of broken files, made once per session."""
    root = tmp_path_factory.mktemp("media")
    out = {
        "v12": make_video(root / "v12.mp4", 12),
        "v30": make_video(root / "v30.mp4", 30, size=(80, 60)),
        "v5": make_video(root / "v5.mp4", 5),
        "frames": make_frames(root / "frames", 10),
    }
    empty = root / "empty.mp4"
    empty.write_bytes(b"")
    out["empty"] = empty
    garbage = root / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    out["garbage"] = garbage
    truncated = root / "truncated.mp4"
    truncated.write_bytes(out["v30"].read_bytes()[:600])
    out["truncated"] = truncated
    out["missing"] = root / "missing.mp4"
    return out
