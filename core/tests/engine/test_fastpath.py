"""The speed settings as the engine applies them: training resolves "auto" for the device and logs it once;
testing runs the inference fast path (batch norm folded, checked) with the same scores as without it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import attrs
import pytest
import torch
from tinyparts import ClipDataset, TinyRecognizer3D, evolve_train, tiny_config

from action_core import hardware
from action_core.engine.checkpoint import save_checkpoint
from action_core.engine.fastpath import inference_model
from action_core.engine.inference import test as run_test
from action_core.engine.trainer import Trainer

no_native_bf16 = pytest.mark.skipif(
    hardware.native_bf16(), reason="this CPU computes bf16 natively; the test is for CPUs that do not"
)


def trained_like_model(seed: int = 0) -> TinyRecognizer3D:
    """A tiny recognizer whose batch norm has statistics far from the identity (as after training)."""
    torch.manual_seed(seed)
    model = TinyRecognizer3D()
    bn = model.backbone[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.3, 3.0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.5, 0.5)
    return model


@no_native_bf16
def test_trainer_resolves_auto_to_fp32_and_the_measured_layout_here_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = tiny_config(schedule={"epochs": 1})
    assert (cfg.train.amp, cfg.train.channels_last, cfg.train.compile) == ("auto", "auto", "auto")
    datasets = {"train": ClipDataset(8, seed=1)}
    with caplog.at_level(logging.INFO, logger="action_core.hardware"):
        trainer = Trainer(cfg, work_dir=tmp_path, model=TinyRecognizer3D, datasets=datasets, progress=False)
    # a 3D model: channels_last_3d where a 3D training step was measured faster (AVX-512), else contiguous
    layout = hardware.cpu_kind() in hardware.CHANNELS_LAST_CPU_SPEEDUP[("train", 3)]
    assert trainer.amp == "none" and trainer.channels_last is layout and not trainer.scaler.is_enabled()
    weight = trainer.model.backbone[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last_3d if layout else torch.contiguous_format)
    lines = [r.getMessage() for r in caplog.records if r.name == "action_core.hardware"]
    assert (
        len(lines) == 1 and lines[0].startswith("speed settings on cpu (") and "amp=none (fp32;" in lines[0]
    )
    assert trainer.cfg.train.amp == "auto"  # the config keeps "auto": a resumed run decides anew

    caplog.clear()
    forced = evolve_train(cfg, amp="bf16")
    with caplog.at_level(logging.INFO, logger="action_core.hardware"):
        trainer = Trainer(forced, work_dir=tmp_path / "b", model=TinyRecognizer3D, datasets=datasets,
                          progress=False)  # fmt: skip
    assert trainer.amp == "bf16"
    assert any(
        r.levelno == logging.WARNING and "x slower than fp32" in r.getMessage() for r in caplog.records
    )


def test_test_folds_batch_norm_and_gives_the_scores_of_the_unfolded_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = trained_like_model()
    path = save_checkpoint({"state_dict": model.state_dict()}, tmp_path / "m.pth")
    dataset = ClipDataset(7, seed=2, augment=False)
    scores = {}
    for fold in (True, False):
        cfg = tiny_config()
        cfg = attrs.evolve(cfg, test=attrs.evolve(cfg.test, fold_bn=fold))
        out = tmp_path / f"{fold}.json"
        with caplog.at_level(logging.INFO, logger="action_core.engine.fastpath"):
            run_test(cfg, path, model=TinyRecognizer3D(), dataset=dataset, out=out, progress=False)
        document = json.loads(out.read_text())
        scores[fold] = torch.tensor([[s for _, s in sample["top_k"]] for sample in document["samples"]])
        folded_lines = [r.getMessage() for r in caplog.records if "batch norm folded" in r.getMessage()]
        assert len(folded_lines) == fold
        assert not fold or "folded into 1 convolutions (0 kept)" in folded_lines[0]
        caplog.clear()
    assert scores[True].shape == (7, 4)
    assert torch.allclose(scores[True], scores[False], rtol=1e-5, atol=1e-5)


def test_inference_model_folds_a_copy_and_keeps_the_given_model() -> None:
    model = trained_like_model()
    item = ClipDataset(1, augment=False)[0]
    example = {"inputs": item["inputs"][None]}
    runner, settings = inference_model(model, example, device=torch.device("cpu"), log=False)
    folded = runner.model
    assert not any(isinstance(m, torch.nn.BatchNorm3d) for m in folded.modules())
    assert isinstance(model.backbone[1], torch.nn.BatchNorm3d)  # the model passed in is unchanged
    x = item["inputs"][:1]
    with torch.no_grad():
        assert torch.allclose(folded(x), model.eval()(x), rtol=1e-5, atol=1e-5)
    assert settings.amp.value in {"none", "bf16"} and settings.compile.value is False


@pytest.mark.parametrize("tune", [True, False])
def test_testing_keeps_freed_memory_as_training_does_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tune: bool
) -> None:
    """``train.tune_memory`` (glibc keeps freed activations; SlowFast-R50 inference 1.4x faster) applies to
    ``test`` as it does to training, and ``false`` turns it off there too."""
    import action_core.data

    calls: list[bool] = []
    real = action_core.data.keep_freed_memory
    monkeypatch.setattr(action_core.data, "keep_freed_memory", lambda: calls.append(True) or real())
    model = trained_like_model()
    path = save_checkpoint({"state_dict": model.state_dict()}, tmp_path / "m.pth")
    cfg = evolve_train(tiny_config(), tune_memory=tune)
    run_test(cfg, path, model=TinyRecognizer3D(), dataset=ClipDataset(2, augment=False), progress=False)
    assert bool(calls) is tune
