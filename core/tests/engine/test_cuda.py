"""The same training paths on a GPU: autocast bf16/fp16 with GradScaler, channels_last_3d (skipped on CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from tinyparts import ClipDataset, TinyRecognizer3D, evolve_train, tiny_config

from action_core.engine.checkpoint import load_checkpoint
from action_core.engine.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("amp", ["none", "bf16", "fp16"])
def test_cuda_training_with_amp_and_channels_last(tmp_path: Path, amp: str) -> None:
    cfg = evolve_train(
        tiny_config(schedule={"epochs": 3}, optim={"grad_clip": 10.0}), amp=amp, channels_last=True
    )
    sets = {"train": ClipDataset(64, seed=1), "val": ClipDataset(37, seed=2, augment=False)}
    trainer = Trainer(
        cfg, work_dir=tmp_path, model=TinyRecognizer3D, datasets=sets, device="cuda", progress=False
    )
    assert trainer.model.backbone[0].weight.is_cuda
    final = trainer.fit()
    assert final["val/top1"] >= 0.9
    state = load_checkpoint(tmp_path / "last.pth")
    assert (state["scaler"] is not None) == (amp == "fp16")
