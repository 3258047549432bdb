"""Classification metrics against scikit-learn (live when installed, and a stored fixture of its outputs)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from action_core.evaluation import (
    AccMetric,
    ConfusionMatrix,
    MeanClassAccuracy,
    Metric,
    MultiLabelMAP,
    average_precision,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    top_k_accuracy,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "sklearn_classification.json").read_text())


@pytest.mark.parametrize("case", FIXTURE["single_label"], ids=lambda c: f"n{len(c['labels'])}")
def test_single_label_metrics_equal_stored_sklearn_outputs(case):
    scores, labels = np.array(case["scores"]), np.array(case["labels"])
    ks = [int(k) for k in case["top_k"]]
    got = top_k_accuracy(scores, labels, ks)
    assert got == pytest.approx([case["top_k"][str(k)] for k in ks], abs=1e-12)
    assert mean_class_accuracy(scores, labels, classes="ground_truth") == pytest.approx(
        case["balanced_accuracy"], abs=1e-12
    )
    np.testing.assert_array_equal(
        confusion_matrix(scores, labels, num_classes=scores.shape[1]), case["confusion_matrix"]
    )


@pytest.mark.parametrize("case", FIXTURE["multi_label"], ids=lambda c: f"n{len(c['labels'])}")
def test_multi_label_map_equals_stored_sklearn_outputs(case):
    scores, labels = np.array(case["scores"]), np.array(case["labels"])
    assert mean_average_precision(scores, labels, mode="mmit") == pytest.approx(case["ap_samples"], abs=1e-12)
    assert mean_average_precision(scores, labels, mode="per_class") == pytest.approx(
        case["ap_macro"], abs=1e-12
    )


def _random_single(rng, n, k, decimals):
    return np.round(rng.random((n, k)), decimals), rng.integers(0, k, n)


@pytest.mark.parametrize("seed", range(12))
def test_single_label_metrics_equal_live_sklearn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 80)), int(rng.integers(2, 15))
    scores, labels = _random_single(rng, n, k, decimals=int(rng.choice([1, 2, 8])))  # few decimals: ties
    for topk in sorted({1, min(2, k - 1), min(5, k - 1)}):
        ref = sk.top_k_accuracy_score(labels, scores, k=topk, labels=np.arange(k))
        assert top_k_accuracy(scores, labels, (topk,))[0] == pytest.approx(ref, abs=1e-12)
    pred = scores.argmax(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a class is only predicted
        ref_bal = sk.balanced_accuracy_score(labels, pred)
    assert mean_class_accuracy(scores, labels, classes="ground_truth") == pytest.approx(ref_bal, abs=1e-12)
    np.testing.assert_array_equal(
        confusion_matrix(pred, labels, num_classes=k), sk.confusion_matrix(labels, pred, labels=np.arange(k))
    )
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(
            confusion_matrix(pred, labels, num_classes=k, normalize=norm),
            sk.confusion_matrix(labels, pred, labels=np.arange(k), normalize=norm),
            atol=1e-12,
        )


@pytest.mark.parametrize("seed", range(12))
def test_multi_label_map_equals_live_sklearn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(100 + seed)
    n, k = int(rng.integers(2, 60)), int(rng.integers(2, 20))
    scores = np.round(rng.random((n, k)), int(rng.choice([1, 2, 8])))
    labels = (rng.random((n, k)) < rng.uniform(0.05, 0.6)).astype(np.int64)
    labels[np.arange(n), rng.integers(0, k, n)] = 1
    labels[rng.integers(0, n, k), np.arange(k)] = 1
    assert mean_average_precision(scores, labels) == pytest.approx(
        sk.average_precision_score(labels, scores, average="samples"), abs=1e-12
    )
    assert mean_average_precision(scores, labels, mode="per_class") == pytest.approx(
        sk.average_precision_score(labels, scores, average="macro"), abs=1e-12
    )
    assert average_precision(scores[0], labels[0]) == pytest.approx(
        sk.average_precision_score(labels[0], scores[0]), abs=1e-12
    )


def test_mean_class_accuracy_hand_cases_and_mmaction2_union_semantics():
    # labels: class 0 twice, class 1 once; predictions: 0, 2, 1 -> class 2 is only predicted.
    scores = np.array([[0.9, 0.0, 0.1], [0.1, 0.0, 0.9], [0.0, 0.8, 0.2]])
    labels = np.array([0, 0, 1])
    # MMAction2: classes {0, 1, 2}; recalls 1/2, 1, and 0 for the predicted-only class 2.
    assert mean_class_accuracy(scores, labels) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    # scikit-learn balanced accuracy: classes in the labels only.
    assert mean_class_accuracy(scores, labels, classes="ground_truth") == pytest.approx(0.75)
    assert top_k_accuracy(scores, labels, (1, 2, 3)) == pytest.approx([2 / 3, 1.0, 1.0])


def test_top_k_ties_rank_the_higher_class_index_first():
    scores = np.array([[0.5, 0.5, 0.1]])
    assert top_k_accuracy(scores, np.array([1]), (1,)) == [1.0]
    assert top_k_accuracy(scores, np.array([0]), (1, 2)) == [0.0, 1.0]


def test_accepts_torch_tensors_including_half_precision():
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], dtype=torch.float16)
    labels = torch.tensor([1, 1, 1])
    assert top_k_accuracy(scores, labels, (1,)) == pytest.approx([2 / 3])
    assert mean_average_precision(scores, torch.tensor([[0, 1], [1, 1], [0, 1]])) == pytest.approx(
        (1.0 + 1.0 + 1.0) / 3
    )


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="1-based"):
        top_k_accuracy(np.zeros((2, 3)), np.array([1, 3]))
    with pytest.raises(ValueError, match=r"shape \(N, num_classes\)"):
        top_k_accuracy(np.zeros(3), np.array([1]))
    with pytest.raises(ValueError, match="no sample/class has a positive"):
        mean_average_precision(np.zeros((2, 3)), np.zeros((2, 3)))


def test_streaming_metrics_equal_one_shot_computation():
    rng = np.random.default_rng(7)
    scores, labels = rng.random((50, 6)), rng.integers(0, 6, 50)
    multi_hot = (rng.random((50, 6)) < 0.4).astype(np.int64)
    multi_hot[np.arange(50), labels] = 1
    acc, mca, cm = AccMetric(topk=(1, 5)), MeanClassAccuracy(), ConfusionMatrix()
    mlmap = MultiLabelMAP()
    for m in (acc, mca, cm, mlmap):
        assert isinstance(m, Metric)
    for lo in range(0, 50, 16):
        batch = slice(lo, lo + 16)
        acc.update(torch.from_numpy(scores[batch]), torch.from_numpy(labels[batch]))
        mca.update(scores[batch], labels[batch])
        cm.update(scores[batch], labels[batch])
        mlmap.update(scores[batch], multi_hot[batch])
    top1, top5 = top_k_accuracy(scores, labels, (1, 5))
    assert acc.compute() == {"top1": top1, "top5": top5}
    assert mca.compute() == {"mean_class_accuracy": mean_class_accuracy(scores, labels)}
    assert mlmap.compute() == {"mAP": mean_average_precision(scores, multi_hot)}
    np.testing.assert_array_equal(cm.matrix(), confusion_matrix(scores, labels))
    assert cm.compute()["accuracy"] == pytest.approx(top1)
    acc.reset()
    with pytest.raises(ValueError, match="before any update"):
        acc.compute()
    with pytest.raises(ValueError, match="classes"):
        mca.update(np.zeros((2, 4)), np.zeros(2))


@pytest.mark.parametrize("seed", range(10))
def test_mean_class_accuracy_union_equals_loop_statement_of_mmaction2(seed):
    # MMAction2: classes that occur in labels or predictions; a class never in the labels scores 0.
    rng = np.random.default_rng(300 + seed)
    n, k = int(rng.integers(1, 40)), int(rng.integers(2, 12))
    scores, labels = rng.random((n, k)), rng.integers(0, max(1, k // 2), n)  # predictions reach more classes
    pred = scores.argmax(axis=1)
    per_class = []
    for c in sorted(set(pred.tolist()) | set(labels.tolist())):
        count = sum(1 for y in labels if y == c)
        hits = sum(1 for y, p in zip(labels, pred) if y == c and p == c)
        per_class.append(hits / count if count else 0.0)
    assert mean_class_accuracy(scores, labels) == pytest.approx(sum(per_class) / len(per_class), abs=1e-12)
