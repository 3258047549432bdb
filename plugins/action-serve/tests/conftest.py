"""Fixtures: a TSM-R18 checkpoint of the synthetic-motion preset (random weights: the tests compare what the
server says with what the Inferencer says), a synthetic-motion clip, and servers on the loopback address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from serve_helpers import CLASSES, motion_clip


@pytest.fixture(scope="session", autouse=True)
def _few_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint as the trainer writes it (weights, config, class names) of ``tsm_r18_synthetic``."""
    from action_core.api import build_model_from_config, load_experiment, save_checkpoint

    cfg = load_experiment("tsm_r18_synthetic")
    torch.manual_seed(0)
    model = build_model_from_config(cfg)
    meta = {"config": cfg.to_dict(), "classes": CLASSES, "multi_label": False}
    return save_checkpoint(
        {"model": model.state_dict(), "meta": meta}, tmp_path_factory.mktemp("ckpt") / "tsm.pth"
    )


@pytest.fixture(scope="session")
def inferencer(checkpoint: Path) -> Any:
    from action_core.api import Inferencer

    return Inferencer.from_checkpoint(checkpoint, device="cpu")


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 s, 8 fps, 64 px synthetic-motion clip (the square moves left)."""
    return motion_clip(tmp_path_factory.mktemp("clips") / "move_left.mp4")


@pytest.fixture
def serve(inferencer: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``serve(**settings)``: a started :class:`BackgroundServer` on 127.0.0.1 whose temporary folder lies
    under ``tmp_path / "serve-tmp"``; every server is stopped at the end of the test."""
    from action_serve.app import create_app
    from action_serve.server import BackgroundServer
    from action_serve.settings import ServeSettings

    started: list[Any] = []

    def start(**settings: Any) -> Any:
        settings.setdefault("tmp_dir", tmp_path / "serve-tmp")
        app = create_app(inferencer, ServeSettings(**settings))
        server = BackgroundServer(app, host="127.0.0.1").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
