"""A localizer runs through the same engine as a recognizer: its training_step is optimised and logged, its
predict_step's proposals are evaluated with the localization metrics, in validation and in test()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tinyparts import TinyLocalizer, TinyRecognizer3D, make_localization_dataset, tiny_localization_config

from action_core.engine.inference import evaluate, make_eval_loader
from action_core.engine.inference import test as run_test
from action_core.engine.trainer import Trainer
from action_core.localization.results_io import read_activitynet_results
from action_core.models.steps import training_step


def test_a_localizer_trains_validates_and_tests_through_the_engine(tmp_path: Path) -> None:
    datasets = {
        "train": make_localization_dataset(tmp_path / "train", videos=8, seed=1, test_mode=False),
        "val": make_localization_dataset(tmp_path / "val", videos=5, seed=2, test_mode=True),
    }
    cfg = tiny_localization_config()
    work_dir = tmp_path / "run"
    trainer = Trainer(cfg, work_dir=work_dir, model=TinyLocalizer, datasets=datasets, progress=False)
    final = trainer.fit()
    assert trainer.task == "localization" and trainer.iteration == 2 * 2
    records = [json.loads(line) for line in (work_dir / "log.jsonl").read_text().splitlines()]
    steps = [r for r in records if "train/loss" in r]
    assert len(steps) == 4  # every other scalar of training_step is logged beside the loss
    for r in steps:
        assert r["train/loss"] == pytest.approx(r["train/start_loss"] + r["train/end_loss"], abs=1e-5)
    assert 0.0 <= final["val/AUC"] <= 100.0 and 0.0 <= final["val/AR@100"] <= 1.0
    assert (work_dir / "best.pth").is_file() and (work_dir / "epoch_2.pth").is_file()
    assert not (work_dir / "confusion_matrix.png").exists()

    # test() on the validation split gives the validation metrics of the last epoch, and the proposals
    out = tmp_path / "proposals.json"
    results = run_test(
        cfg, work_dir / "last.pth", model=TinyLocalizer(), dataset=datasets["val"], out=out, progress=False
    )
    assert results["AUC"] == final["val/AUC"] and results["num_samples"] == 5.0
    written = read_activitynet_results(out)
    assert set(written) == {f"tiny2_{v:02d}" for v in range(5)}  # v_ prefix dropped, as official files
    assert all(p["segment"][0] <= p["segment"][1] for v in written.values() for p in v)
    loader = make_eval_loader(datasets["val"], batch_size=2)
    assert evaluate(trainer.model, loader, metrics=["activitynet_proposal"], progress=False) == results


def test_a_training_step_without_a_loss_entry_is_refused() -> None:
    class NoLoss(TinyRecognizer3D):
        def training_step(self, batch: dict) -> dict:
            return {"total": torch.zeros(())}

    with pytest.raises(TypeError, match="NoLoss.training_step must return a dict of tensors with a 'loss'"):
        training_step(NoLoss(), {"inputs": torch.zeros(1, 1, 3, 4, 8, 8), "label": torch.zeros(1).long()})
