"""A work dir holds one run at a time and is never left inconsistent: a second run is refused while the first
holds the lock, a used work dir needs --resume or --overwrite, and a run killed with kill -9 (even in the
middle of writing a checkpoint) resumes into a work dir whose checkpoints and log agree."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from run_tiny import datasets
from tinyparts import TinyRecognizer3D, evolve_train, tiny_config

from action_core.engine.checkpoint import load_checkpoint
from action_core.engine.trainer import Trainer
from action_core.engine.workdir import WorkDirError, WorkDirLock

SCRIPT = Path(__file__).with_name("run_tiny.py")


def script(work_dir: Path, *args: str) -> list[str]:
    return [sys.executable, str(SCRIPT), str(work_dir), *args]


def records(work_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]


def epoch_ends(work_dir: Path) -> list[int]:
    return [r["epoch"] for r in records(work_dir) if r.get("event") == "epoch_end"]


def loss_steps(work_dir: Path) -> list[int]:
    return [r["step"] for r in records(work_dir) if "train/loss" in r]


def trainer(work_dir: Path, epochs: int, **train: object) -> Trainer:
    cfg = tiny_config(schedule={"epochs": epochs})
    cfg = evolve_train(cfg, **train) if train else cfg
    return Trainer(cfg, work_dir=work_dir, model=TinyRecognizer3D, datasets=datasets(), progress=False)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_second_run_into_a_busy_work_dir_is_refused_naming_the_holder(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    work_dir, hold = tmp_path / "run", tmp_path / "go"
    first = subprocess.Popen(
        script(work_dir, "--epochs", "2", "--hold-at-step", "3", "--hold-file", str(hold)),
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(Path(f"{hold}.reached"), first)  # the first run is training (step 3) and waits there
        for extra in ([], ["--resume", "auto"], ["--overwrite"]):
            second = subprocess.run(
                script(work_dir, "--epochs", "2", *extra),
                env=subprocess_env,
                capture_output=True,
                text=True,
                timeout=240,
            )
            assert second.returncode != 0, extra
            assert "WorkDirError" in second.stderr and "in use by another run" in second.stderr
            assert f"pid {first.pid}" in second.stderr and "started" in second.stderr
        hold.touch()
        _, err = first.communicate(timeout=240)
    finally:
        hold.touch()
        first.wait(timeout=240)
    assert first.returncode == 0, err[-3000:]
    # The log is the first run's alone: each epoch ended once, steps never repeat or interleave.
    assert epoch_ends(work_dir) == [1, 2]
    assert loss_steps(work_dir) == list(range(1, 17))
    best = load_checkpoint(work_dir / "best.pth")
    assert best["best"]["epoch"] == best["epoch"]
    assert not (work_dir / "run.lock").exists()  # released at the end


@pytest.mark.slow
def test_a_lock_left_by_a_killed_run_is_taken_over_and_the_log_follows_the_checkpoint(
    tmp_path: Path, subprocess_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    proc = subprocess.run(
        script(tmp_path, "--epochs", "3", "--kill-at-step", "12"),
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    holder = json.loads((tmp_path / "run.lock").read_text())
    assert loss_steps(tmp_path)[-1] == 12  # the killed run logged steps 9-12, past its last checkpoint
    with caplog.at_level(logging.WARNING, logger="action_core.engine"):
        run = trainer(tmp_path, 3)
        run.fit(resume="auto")
    lines = [m for m in (r.getMessage() for r in caplog.records) if "taking over" in m]
    assert len(lines) == 1 and f"pid {holder['pid']}" in lines[0] and "no longer running" in lines[0]
    # Steps 9-12 of the killed run were redone: the log has each step once, in order, and each epoch end once.
    assert loss_steps(tmp_path) == list(range(1, 25))
    assert epoch_ends(tmp_path) == [1, 2, 3]
    assert not (tmp_path / "run.lock").exists()


@pytest.mark.slow
def test_a_kill_while_writing_an_epoch_checkpoint_is_repaired_on_resume(
    tmp_path: Path, subprocess_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    proc = subprocess.run(
        script(tmp_path, "--epochs", "3", "--kill-copying", "epoch_1.pth"),
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    # last.pth of epoch 1 was renamed into place; epoch_1.pth and best.pth were not, and epoch 1's record is
    # missing from the log.
    (leftover,) = tmp_path.glob(".epoch_1.pth.*.tmp")
    assert load_checkpoint(tmp_path / "last.pth")["epoch"] == 1
    assert not (tmp_path / "epoch_1.pth").exists() and not (tmp_path / "best.pth").exists()
    assert epoch_ends(tmp_path) == []
    with caplog.at_level(logging.WARNING, logger="action_core.engine"):
        run = trainer(tmp_path, 3, keep_ckpts=-1)  # every epoch checkpoint stays, to compare
        run.fit(resume="auto")
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert leftover.name in messages
    assert not list(tmp_path.glob(".*.tmp"))
    assert epoch_ends(tmp_path) == [1, 2, 3]
    restored = next(r for r in records(tmp_path) if r.get("event") == "epoch_end")
    assert restored["step"] == 8 and restored["val/top1"] is not None
    assert loss_steps(tmp_path) == list(range(1, 25))
    assert [load_checkpoint(tmp_path / f"epoch_{e}.pth")["epoch"] for e in (1, 2, 3)] == [1, 2, 3]
    best = load_checkpoint(tmp_path / "best.pth")
    assert best["epoch"] == run.best["epoch"] and best["best"] == run.best  # best.pth is the reported best
    of_that_epoch = load_checkpoint(tmp_path / f"epoch_{run.best['epoch']}.pth")["model"]
    assert all(torch.equal(best["model"][k], of_that_epoch[k]) for k in of_that_epoch)


def test_a_new_run_in_a_used_work_dir_needs_resume_or_overwrite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trainer(tmp_path, 2, val_interval=0).fit()
    (tmp_path / "notes.txt").write_text("the user's own file")
    with pytest.raises(WorkDirError) as err:
        trainer(tmp_path, 1, val_interval=0).fit()
    message = str(err.value)
    for name in ("epoch_1.pth", "epoch_2.pth", "last.pth", "log.jsonl", "--resume", "--overwrite"):
        assert name in message
    assert not (tmp_path / "run.lock").exists()  # a refused run leaves the lock free
    with pytest.raises(WorkDirError, match="--overwrite.*--resume auto|--resume auto.*--overwrite"):
        trainer(tmp_path, 1, val_interval=0).fit(resume="auto", overwrite=True)
    with caplog.at_level(logging.WARNING, logger="action_core.engine"):
        trainer(tmp_path, 1, val_interval=0).fit(overwrite=True)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "epoch_2.pth" in said and "log.jsonl" in said
    assert not (tmp_path / "epoch_2.pth").exists()  # the old run's later checkpoint is gone
    assert load_checkpoint(tmp_path / "last.pth")["epoch"] == 1
    assert epoch_ends(tmp_path) == [1] and loss_steps(tmp_path) == list(range(1, 9))  # a fresh log
    assert (tmp_path / "notes.txt").read_text() == "the user's own file"


def test_resuming_another_work_dirs_checkpoint_into_a_used_one_needs_overwrite(tmp_path: Path) -> None:
    trainer(tmp_path / "a", 1, val_interval=0).fit()
    trainer(tmp_path / "b", 1, val_interval=0).fit()
    with pytest.raises(WorkDirError, match="another work dir"):
        trainer(tmp_path / "b", 2, val_interval=0).fit(resume=tmp_path / "a" / "last.pth")
    trainer(tmp_path / "b", 2, val_interval=0).fit(resume=tmp_path / "a" / "last.pth", overwrite=True)
    assert epoch_ends(tmp_path / "b") == [2]
    # into an empty work dir it needs nothing
    trainer(tmp_path / "c", 2, val_interval=0).fit(resume=tmp_path / "a" / "last.pth")
    assert epoch_ends(tmp_path / "c") == [2]


def test_the_lock_is_exclusive_between_processes_and_names_its_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from action_core.engine.workdir import WorkDirLock; "
            f"WorkDirLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkDirError) as err:
            WorkDirLock(tmp_path).acquire()
        assert f"pid {holder.pid}" in str(err.value) and str(tmp_path / "run.lock") in str(err.value)
    finally:
        holder.kill()
        holder.wait()
    lock = WorkDirLock(tmp_path)
    stale = lock.acquire()  # the holder died with the lock: taken over
    assert stale is not None and stale.pid == holder.pid
    assert json.loads((tmp_path / "run.lock").read_text())["pid"] == os.getpid()
    lock.release()
    assert not (tmp_path / "run.lock").exists()


@pytest.mark.slow
def test_under_torchrun_rank_0_alone_takes_the_lock_and_every_rank_stops_when_it_is_busy(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    work_dir = tmp_path / "run"
    lock = WorkDirLock(work_dir)
    lock.acquire()
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        str(SCRIPT), str(work_dir), "--epochs", "1",
    ]  # fmt: skip
    try:
        proc = subprocess.run(command, env=subprocess_env, capture_output=True, text=True, timeout=240)
    finally:
        lock.release()
    assert proc.returncode != 0
    assert f"pid {os.getpid()}" in proc.stderr  # rank 0 names the holder; no rank hangs waiting for it
    proc = subprocess.run(command, env=subprocess_env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]  # rank 1 never competes with rank 0 for the lock
    assert epoch_ends(work_dir) == [1]
