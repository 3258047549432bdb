"""Regenerate fixtures/sklearn_classification.json (needs scikit-learn):

    PYTHONPATH=core/src python core/tests/evaluation/make_sklearn_fixture.py   # a Python with scikit-learn

Inputs are stored in the file, so the tests do not depend on a random generator's stream.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    top_k_accuracy_score,
)

OUT = Path(__file__).parent / "fixtures" / "sklearn_classification.json"


def single_label_case(rng: np.random.Generator, n: int, k: int, decimals: int) -> dict:
    scores = np.round(rng.random((n, k)), decimals)
    labels = rng.integers(0, k, n)
    pred = scores.argmax(axis=1)
    return {
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "top_k": {
            str(t): top_k_accuracy_score(labels, scores, k=t, labels=np.arange(k)) for t in (1, 2, 3, 5)
        },
        "balanced_accuracy": balanced_accuracy_score(labels, pred),
        "confusion_matrix": confusion_matrix(labels, pred, labels=np.arange(k)).tolist(),
    }


def multi_label_case(rng: np.random.Generator, n: int, k: int, decimals: int) -> dict:
    scores = np.round(rng.random((n, k)), decimals)
    labels = (rng.random((n, k)) < 0.3).astype(int)
    labels[np.arange(n), rng.integers(0, k, n)] = 1  # every sample has a positive
    labels[rng.integers(0, n, k), np.arange(k)] = 1  # every class has a positive
    return {
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "ap_samples": average_precision_score(labels, scores, average="samples"),
        "ap_macro": average_precision_score(labels, scores, average="macro"),
    }


def main() -> None:
    rng = np.random.default_rng(20240607)
    data = {
        "single_label": [
            single_label_case(rng, n, k, d) for n, k, d in ((40, 7, 6), (60, 10, 1), (25, 5, 2))
        ],
        "multi_label": [multi_label_case(rng, n, k, d) for n, k, d in ((30, 8, 6), (50, 12, 1), (20, 6, 2))],
    }
    OUT.write_text(json.dumps(data))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
