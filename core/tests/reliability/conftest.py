"""Fixtures of the bad-input tests: the tiny model plugin installed, one checkpoint, one good clip."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from reliability_helpers import corpus_copy, install_tiny_model, write_checkpoint


@pytest.fixture
def tiny(make_plugin, tmp_path: Path) -> SimpleNamespace:
    """``tiny.checkpoint`` (a trained-here checkpoint of the tiny plugin model) and ``tiny.clip``."""
    install_tiny_model(make_plugin)
    return SimpleNamespace(
        checkpoint=write_checkpoint(tmp_path / "tiny.pth"),
        clip=corpus_copy("h264_bframes.mp4", tmp_path / "media"),
    )
