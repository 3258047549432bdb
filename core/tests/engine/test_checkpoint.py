"""Checkpoint files: atomic writes that survive kill -9, safe loading, RNG capture, what to resume."""

from __future__ import annotations

import collections
import os
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from action_core.engine.checkpoint import (
    FORMAT,
    CheckpointError,
    capture_rng_state,
    find_resume_checkpoint,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


class Arbitrary:
    """A class weights-only loading must refuse to reconstruct."""

    def __init__(self) -> None:
        self.payload = "anything"


def test_round_trip_of_plain_state(tmp_path: Path) -> None:
    state = {"format": FORMAT, "model": {"w": torch.arange(4.0)}, "epoch": 3, "history": {"a": [[1.0, 2.0]]}}
    path = save_checkpoint(state, tmp_path / "run" / "last.pth")
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["w"], torch.arange(4.0)) and loaded["epoch"] == 3
    assert [p.name for p in path.parent.iterdir()] == ["last.pth"]  # no temporary file left behind


def test_checkpoint_with_a_pickled_object_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "extra": Arbitrary()}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "refusing to load" in message and "arbitrary code" in message and str(path) in message
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)


def test_truncated_and_missing_files_are_reported(tmp_path: Path) -> None:
    good = save_checkpoint({"format": FORMAT, "x": torch.ones(1000)}, tmp_path / "good.pth")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="could not be read"):
        load_checkpoint(cut)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pth")


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path: Path) -> None:
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.rand(), torch.rand(1)
    path = save_checkpoint({"rng": capture_rng_state()}, tmp_path / "rng.pth")
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng_state(load_checkpoint(path)["rng"])
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected


def test_resume_picks_last_and_skips_unreadable_or_foreign_files(tmp_path: Path) -> None:
    assert find_resume_checkpoint(tmp_path / "missing") is None
    for epoch in (1, 2):
        save_checkpoint({"format": FORMAT, "iteration": epoch * 10}, tmp_path / f"epoch_{epoch}.pth")
    save_checkpoint({"format": FORMAT, "iteration": 5}, tmp_path / "best.pth")
    (tmp_path / ".last.pth.abc.tmp").write_bytes(b"partial")
    assert find_resume_checkpoint(tmp_path) == tmp_path / "epoch_2.pth"
    save_checkpoint({"format": FORMAT, "iteration": 25}, tmp_path / "last.pth")
    assert find_resume_checkpoint(tmp_path) == tmp_path / "last.pth"
    (tmp_path / "last.pth").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="skipping checkpoint"):
        assert find_resume_checkpoint(tmp_path) == tmp_path / "epoch_2.pth"
    torch.save(
        collections.OrderedDict(w=torch.zeros(1)), tmp_path / "epoch_3.pth"
    )  # not a training checkpoint
    with pytest.warns(UserWarning):
        assert find_resume_checkpoint(tmp_path) == tmp_path / "epoch_2.pth"


WRITER = textwrap.dedent(
    """
    import sys, torch
    from action_core.engine.checkpoint import save_checkpoint
    path = sys.argv[1]
    big = torch.randn(2_000_000)
    i = 0
    while True:
        i += 1
        weights = big + i
        save_checkpoint({"format": "action-ckpt/1", "iteration": i, "weights": weights,
                         "checksum": float(weights.double().sum())}, path)
        print(i, flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_while_writing_never_leaves_a_partial_checkpoint(tmp_path: Path, subprocess_env: dict) -> None:
    path = tmp_path / "last.pth"
    for delay in (0.7, 1.1):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)], env=subprocess_env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one complete save happened
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        state = load_checkpoint(path)
        assert state["weights"].numel() == 2_000_000
        assert float(state["weights"].double().sum()) == state["checksum"]
        assert find_resume_checkpoint(tmp_path) == path
