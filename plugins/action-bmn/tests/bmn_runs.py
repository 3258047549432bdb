"""Test helpers: a tiny BMN experiment on planted-segment features, and `action-run` in a subprocess with a
plugin whose run-time hook kills the run (SIGKILL) at a given optimiser step."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bmn_synthetic import make_feature_set

TINY = """
[model]
type = "bmn"
num_classes = 1
args = {{ temporal_dim = 16, feat_dim = 8, num_samples = 4, num_samples_per_bin = 2, hidden_dim_1d = 8, hidden_dim_2d = 4, hidden_dim_3d = 8 }}
[data]
dataset = "activitynet_features"
root = "{root}"
batch_size = 2
workers = 0
[data.train]
split = "train"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[data.val]
split = "val"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[data.test]
split = "val"
args = {{ temporal_scale = 16, feat_dim = 8 }}
[optim]
type = "adam"
lr = 0.003
grad_clip = 40.0
[schedule]
epochs = {epochs}
milestones = [2]
[train]
val_interval = 1
log_interval = 1
best_metric = "AUC"
ckpt_interval_iters = {ckpt_iters}
[test]
metrics = ["activitynet_proposal"]
"""

KILLER = """
import os
import signal

from action_core import hookimpl

ACTION_PLUGIN_API = "1.0"


@hookimpl
def action_on_log(run, step, scalars):
    if step == int(os.environ.get("KILL_AT_STEP", "0")) and "train/loss" in scalars:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def tiny_experiment(root: Path, *, epochs: int = 3, ckpt_iters: int = 0, videos: int = 8) -> Path:
    """Features of ``videos`` training and 3 validation videos under ``root`` and a tiny BMN config file."""
    make_feature_set(root, num_videos=videos, temporal_scale=12, feat_dim=8, seed=0, split="train")
    make_feature_set(root, num_videos=3, temporal_scale=20, feat_dim=8, seed=1, split="val")
    config = root / "bmn_tiny.toml"
    config.write_text(TINY.format(root=root, epochs=epochs, ckpt_iters=ckpt_iters), encoding="utf-8")
    return config


def install_killer(site: Path) -> Path:
    """A plugin distribution under ``site`` (put it on PYTHONPATH) whose ``action_on_log`` hook kills the
    process at optimiser step ``$KILL_AT_STEP``."""
    info = site / "action_killer-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: action-killer\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[action.plugins]\nkiller = action_killer_plugin\n")
    (site / "action_killer_plugin.py").write_text(textwrap.dedent(KILLER))
    return site


def cli_env(site: Path | None = None, **extra: str) -> dict[str, str]:
    """One thread per process (float sums depend on the thread count) and ``site`` importable."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", **extra)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return env


def action_run(args: list[str], env: dict[str, str], *, torchrun: int = 0) -> subprocess.CompletedProcess:
    """``action-run ARGS`` in a subprocess (under ``torchrun --nproc-per-node N`` when ``torchrun``)."""
    launcher = [sys.executable]
    if torchrun:
        launcher += ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(torchrun)]
    command = [*launcher, "-m", "action_core.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
