"""Fixtures of the Inferencer tests: one intra-op thread, the colour model registered by a tiny plugin."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from colourparts import PLUGIN_SOURCE  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def colour_plugin(make_plugin: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The colour model registered as ``colour3d`` (so checkpoints carrying their config build it); returns
    the folder to put on PYTHONPATH for subprocesses."""
    from action_core.plugins import host as plugin_host

    monkeypatch.setattr(plugin_host, "_HOST", None)
    package = make_plugin("colour", PLUGIN_SOURCE)
    return package.parent


@pytest.fixture
def cli_env(colour_plugin: Path) -> dict[str, Any]:
    """Environment for `action-run` in a subprocess: the colour plugin installed, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(colour_plugin), str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    return env
