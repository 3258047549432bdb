"""torchrun --nproc-per-node 2 on CPU (gloo): train + test; the reported metrics equal a single-process
evaluation of the same checkpoint on the same data, every sample counted exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from run_tiny import datasets, make_test_dataset
from tinyparts import TinyRecognizer3D, tiny_config
from torch.utils.data import DataLoader

from action_core.engine.checkpoint import load_checkpoint
from action_core.engine.inference import evaluate, load_weights
from action_core.engine.inference import test as run_test

SCRIPT = Path(__file__).with_name("run_tiny.py")


@pytest.mark.slow
def test_torchrun_two_processes_match_single_process_evaluation(tmp_path: Path, subprocess_env: dict) -> None:
    work_dir = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        str(SCRIPT), str(work_dir), "--epochs", "2", "--test-out", str(work_dir / "results.json"),
    ]  # fmt: skip
    proc = subprocess.run(command, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((work_dir / "summary.json").read_text())
    assert summary["world_size"] == 2

    cfg = tiny_config(schedule={"epochs": 2})
    checkpoint = work_dir / "last.pth"
    assert load_checkpoint(checkpoint)["meta"]["world_size"] == 2
    single = run_test(cfg, checkpoint, model=TinyRecognizer3D(), dataset=make_test_dataset(), progress=False,
                  out=tmp_path / "single.json")  # fmt: skip
    distributed = summary["test"]
    assert distributed == single
    assert distributed["num_samples"] == 37 and 0.3 < distributed["top1"] < 1.0  # not a trivial agreement
    # the stock DistributedSampler pads 37 samples to 38; the duplicate is dropped by index
    assert summary["padded_len"] == 38 and summary["padded_eval"] == single

    ours = json.loads((work_dir / "results.json").read_text())["samples"]
    reference = json.loads((tmp_path / "single.json").read_text())["samples"]
    assert [s["index"] for s in ours] == list(range(37))
    for a, b in zip(ours, reference, strict=True):
        assert [c for c, _ in a["top_k"]] == [c for c, _ in b["top_k"]]
        assert [s for _, s in a["top_k"]] == pytest.approx([s for _, s in b["top_k"]], abs=1e-5)

    # validation during distributed training also equals a single-process evaluation of the checkpoint
    lines = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    epoch_ends = [r for r in lines if r.get("event") == "epoch_end"]
    assert [r["epoch"] for r in epoch_ends] == [1, 2]  # rank 0 alone writes the log
    model = TinyRecognizer3D()
    load_weights(model, checkpoint)
    val = evaluate(
        model, DataLoader(datasets()["val"], batch_size=6), metrics=cfg.test.metrics, progress=False
    )
    assert epoch_ends[-1]["val/top1"] == val["top1"]
    assert epoch_ends[-1]["val/mean_class_accuracy"] == val["mean_class_accuracy"]
    assert torch.equal(load_checkpoint(work_dir / "epoch_2.pth")["model"]["head.1.bias"],
                       load_checkpoint(checkpoint)["model"]["head.1.bias"])  # fmt: skip
