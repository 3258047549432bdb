"""kill -9 in the middle of an epoch, then resume="auto": the run continues from the last complete
checkpoint and ends with exactly the weights of an uninterrupted run with the same seed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from run_tiny import datasets
from tinyparts import TinyRecognizer3D, tiny_config

from action_core.engine.checkpoint import find_resume_checkpoint, load_checkpoint
from action_core.engine.trainer import Trainer

SCRIPT = Path(__file__).with_name("run_tiny.py")
EPOCHS = 3


def run_script(work_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(work_dir), "--epochs", str(EPOCHS), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def finish(work_dir: Path, ckpt_iters: int = 0) -> Trainer:
    cfg = tiny_config(schedule={"epochs": EPOCHS}, train={"ckpt_interval_iters": ckpt_iters})
    trainer = Trainer(cfg, work_dir=work_dir, model=TinyRecognizer3D, datasets=datasets(), progress=False)
    trainer.fit(resume="auto")
    return trainer


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    work_dir = tmp_path_factory.mktemp("uninterrupted")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the scripts: float reductions depend on the thread count
    try:
        finish(work_dir)
    finally:
        torch.set_num_threads(before)
    return load_checkpoint(work_dir / "last.pth")["model"]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def killed_run(work_dir: Path, env: dict[str, str], *args: str) -> None:
    proc = run_script(work_dir, env, "--kill-at-step", "12", *args)  # 8 iterations per epoch: mid-epoch 2
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    for path in work_dir.glob("*.pth"):
        load_checkpoint(path)  # every checkpoint file left behind is complete


@pytest.mark.slow
def test_resume_at_epoch_boundary_equals_uninterrupted_run(
    tmp_path: Path, subprocess_env: dict[str, str], reference: dict[str, torch.Tensor]
) -> None:
    killed_run(tmp_path, subprocess_env)
    state = load_checkpoint(find_resume_checkpoint(tmp_path))
    assert (state["epoch"], state["iteration"], state["batch_in_epoch"]) == (1, 8, 0)
    trainer = finish(tmp_path)
    assert trainer.iteration == EPOCHS * 8
    assert_same_weights(trainer.model.state_dict(), reference)
    assert (
        len([line for line in (tmp_path / "log.jsonl").read_text().splitlines() if "epoch_end" in line]) == 3
    )


@pytest.mark.slow
def test_resume_from_a_mid_epoch_checkpoint_continues_the_same_sample_order(
    tmp_path: Path, subprocess_env: dict[str, str], reference: dict[str, torch.Tensor]
) -> None:
    killed_run(tmp_path, subprocess_env, "--ckpt-iters", "5")
    state = load_checkpoint(find_resume_checkpoint(tmp_path))
    assert (state["epoch"], state["iteration"], state["batch_in_epoch"]) == (1, 10, 2)
    trainer = finish(tmp_path, ckpt_iters=5)
    assert trainer.iteration == EPOCHS * 8
    # single process, no loader workers: RNG streams and the skipped sampler order are restored exactly
    assert_same_weights(trainer.model.state_dict(), reference)
