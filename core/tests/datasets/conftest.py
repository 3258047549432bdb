"""Fixtures of the dataset-machinery tests: tiny real videos in a miniature dataset folder."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from action_core.datasets.synth import write_video


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file to the first ``keep`` fraction of its bytes (a download that stopped half-way)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def overstate_avi_header(path: Path, frames: int) -> Path:
    """Rewrite an AVI's header frame counts (``avih`` total frames, ``strh`` length) to ``frames``."""
    data = bytearray(path.read_bytes())
    avih = data.find(b"avih")
    strh = data.find(b"strh")
    assert avih > 0 and strh > 0, "not an AVI file"
    struct.pack_into("<I", data, avih + 8 + 16, frames)
    struct.pack_into("<I", data, strh + 8 + 32, frames)
    path.write_bytes(bytes(data))
    return path


def make_videos(
    folder: Path, names: list[str], *, num_frames: int = 8, width: int = 32, height: int = 24
) -> None:
    """Write a tiny video for each relative name under ``folder``."""
    for i, name in enumerate(names):
        write_video(folder / name, num_frames=num_frames, width=width, height=height, seed=i)


@pytest.fixture
def media() -> SimpleNamespace:
    """The helpers above: ``media.truncate``, ``media.overstate_avi_header``, ``media.make_videos``."""
    return SimpleNamespace(
        truncate=truncate, overstate_avi_header=overstate_avi_header, make_videos=make_videos
    )
