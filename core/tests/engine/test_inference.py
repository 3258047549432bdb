"""evaluate / predict / test helpers: view folding and averaging, top-k output, views, weight loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, top_k_accuracy_score
from tinyparts import ClipDataset, TinyRecognizer3D, tiny_config
from torch.utils.data import DataLoader

from action_core.engine.checkpoint import CheckpointError, save_checkpoint
from action_core.engine.inference import apply_views, evaluate, load_weights, parse_views, predict
from action_core.engine.inference import test as run_test
from action_core.errors import ConfigError


def reference_scores(
    model: torch.nn.Module, dataset: ClipDataset, average: str
) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    scores, labels = [], []
    with torch.no_grad():
        for i in range(len(dataset)):
            item = dataset[i]
            logits = torch.stack(
                [model(view.unsqueeze(0))[0] for view in item["inputs"]]
            )  # one view at a time
            scores.append(logits.mean(0) if average == "score" else logits.softmax(-1).mean(0))
            labels.append(int(item["label"]))
    return torch.stack(scores).numpy(), np.array(labels)


@pytest.mark.parametrize("average", ["score", "prob"])
def test_evaluate_folds_views_and_averages_like_a_per_view_loop(average: str) -> None:
    torch.manual_seed(0)
    model = TinyRecognizer3D()
    model.eval()
    dataset = ClipDataset(23, seed=5, views=3, noise=1.5, augment=False)
    result = evaluate(
        model, DataLoader(dataset, batch_size=4), metrics=["top1", "top2", "mean_class_accuracy"],
        average=average, progress=False,
    )  # fmt: skip
    scores, labels = reference_scores(model, dataset, average)
    assert result["num_samples"] == 23
    assert result["top1"] == pytest.approx(float((scores.argmax(1) == labels).mean()))
    assert result["top2"] == pytest.approx(top_k_accuracy_score(labels, scores, k=2, labels=range(4)))
    if len(set(scores.argmax(1)) - set(labels)) == 0:
        assert result["mean_class_accuracy"] == pytest.approx(
            balanced_accuracy_score(labels, scores.argmax(1))
        )


def test_predict_returns_sorted_top_k_probabilities_with_class_names() -> None:
    torch.manual_seed(1)
    model = TinyRecognizer3D()
    item = ClipDataset(1, seed=7, views=2)[0]
    top = predict(model, item["inputs"], top_k=3, classes=ClipDataset.classes)
    assert len(top) == 3 and all(name in ClipDataset.classes for name, _ in top)
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0 + 1e-6
    model.eval()
    with torch.no_grad():
        probs = model(item["inputs"]).softmax(-1).mean(0)
    assert top[0] == (ClipDataset.classes[int(probs.argmax())], pytest.approx(float(probs.max())))
    single = predict(model, item["inputs"][0], top_k=10)  # one 4-D view; k capped at the class count
    assert len(single) == 4 and {n for n, _ in single} == {"0", "1", "2", "3"}
    with pytest.raises(ValueError, match="2 class names"):
        predict(model, item["inputs"], classes=["a", "b"])


def test_views_parse_and_rewrite_a_test_pipeline() -> None:
    assert parse_views("10x3") == (10, 3) and parse_views("1×1") == (1, 1)
    with pytest.raises(ConfigError, match="CLIPSxCROPS"):
        parse_views("ten")
    with pytest.raises(ConfigError, match="crops one of 1, 3, 10"):
        parse_views("2x4")
    pipeline = [
        {"type": "SampleFrames", "clip_len": 32, "frame_interval": 2, "num_clips": 1, "test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "CenterCrop", "crop_size": 224},
        {"type": "FormatShape", "input_format": "NCTHW"},
    ]
    steps = apply_views(pipeline, "10x3")
    # ThreeCrop spans the shorter side: the frames are resized to the crop size first, as MMAction2 does
    assert steps[0]["num_clips"] == 10 and steps[2:4] == [
        {"type": "Resize", "scale": [-1, 224]},
        {"type": "ThreeCrop", "crop_size": 224},
    ]
    assert pipeline[0]["num_clips"] == 1  # the original is untouched
    with pytest.raises(ConfigError, match="no CenterCrop"):
        apply_views([pipeline[0]], "1x3")


def test_weights_that_do_not_fit_are_reported(tmp_path: Path) -> None:
    path = save_checkpoint({"model": TinyRecognizer3D(num_classes=7).state_dict()}, tmp_path / "w.pth")
    with pytest.raises(CheckpointError, match="does not fit the TinyRecognizer3D model"):
        load_weights(TinyRecognizer3D(), path)
    with pytest.raises(CheckpointError, match="does not fit"):
        run_test(tiny_config(), path, model=TinyRecognizer3D(), dataset=ClipDataset(4), progress=False)


def test_test_accepts_a_ddp_style_state_dict(tmp_path: Path) -> None:
    model = TinyRecognizer3D()
    path = save_checkpoint({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}},
                           tmp_path / "ddp.pth")  # fmt: skip
    dataset = ClipDataset(9, seed=2, augment=False)
    results = run_test(tiny_config(), path, model=TinyRecognizer3D(), dataset=dataset, progress=False)
    assert results == evaluate(model, DataLoader(dataset, batch_size=3), metrics=tiny_config().test.metrics,
                               progress=False)  # fmt: skip
