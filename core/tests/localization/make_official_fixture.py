"""Build ``fixtures/activitynet_official.json``: randomized cases scored by the official ActivityNet code.

Not a test (pytest does not collect it). It documents how the fixture that
``test_activitynet_official.py`` checks against was made, and remakes it::

    python core/tests/localization/make_official_fixture.py /path/to/ActivityNet/Evaluation [--out FILE]

The folder must hold the official ``eval_proposal.py``, ``eval_detection.py`` and ``utils.py`` (GitHub
``activitynet/ActivityNet``, folder ``Evaluation/``), made to run on Python 3 with current numpy/pandas
(``print`` calls, ``dict.items``, ``range``, ``urllib.request``, ``astype(int/float)`` instead of the
removed ``np.int/np.float``, ``np.trapezoid`` instead of the removed ``np.trapz``; no arithmetic changed).
Run it with an interpreter that has numpy, pandas and joblib; it does not import action_core.

Each case is written as ActivityNet ground-truth / results JSON files and scored with ``ANETproposal``
(AR-AN curve; the AUC is the expression its verbose report prints) and ``ANETdetection`` (AP per class
and tIoU, mAP, average mAP), with ``check_status=False`` (no blocked-video download).

What the cases contain, and what they avoid:

- segments on a grid of quarters (exact in binary) whose tIoU falls exactly on thresholds: a prediction
  ``[s, s + L * j / 20]`` against ground truth ``[s, s + L]`` has tIoU exactly ``j / 20`` (0.5, 0.55, 0.7,
  0.75, 0.9, ...; ``np.linspace(0.5, 0.95, 10)`` equals the nearest doubles of 0.5 .. 0.95 except
  0.8999999999999999 for 0.9), shifted copies, random grid segments, and in some cases random 3-decimal
  segments (not exact in binary; both codes compute tIoU with the same float64 operations);
- videos whose ground truth is empty but that have predictions, predictions for videos absent from the
  ground truth, ground-truth videos without predictions, classes without predictions;
- ``max_avg_nr_proposals`` of 100 (with a case of more than 100 proposals per video), smaller values that
  cut each video's list, and None (the actual average).

Ambiguity avoided on purpose: the official code ranks with numpy's default (quicksort) ``argsort``, which
is not stable (on AVX-512 machines numpy uses a vectorised sort even for short arrays), so equal scores,
or a prediction with equal tIoU (>= the lowest threshold) to two ground-truth segments of its class in a
video, have no defined order. Scores are therefore distinct within a case (4-decimal values drawn without
replacement) and such tIoU ties are re-drawn; zero-length segments are not used (0/0 tIoU).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

LABELS = ["run", "jump", "swim"]
THRESHOLDS = np.linspace(0.5, 0.95, 10)
# Columns of the recall matrix stored (AN = 1, 5, 10, 20, 50, 100 when the largest AN is 100).
RECALL_COLUMNS = [0, 4, 9, 19, 49, 99]
N_CASES = 30


def _tiou(seg: list[float], others: np.ndarray) -> np.ndarray:
    inter = (np.minimum(seg[1], others[:, 1]) - np.maximum(seg[0], others[:, 0])).clip(0)
    return inter / ((others[:, 1] - others[:, 0]) + (seg[1] - seg[0]) - inter)


def _grid_segment(rng: np.random.Generator, fine: bool) -> list[float]:
    if fine:
        a = round(float(rng.uniform(0, 60)), 3)
        return [a, round(a + float(rng.uniform(0.5, 30)), 3)]
    a = int(rng.integers(0, 160)) * 0.25
    return [a, a + int(rng.integers(1, 80)) * 0.25]


def _gt_segment(rng: np.random.Generator, fine: bool) -> list[float]:
    if fine:
        return _grid_segment(rng, True)
    a = int(rng.integers(0, 200)) * 0.25
    return [a, a + 5.0 * int(rng.integers(1, 5))]  # length 5..20: L * j / 20 is a multiple of 0.25


def _near(rng: np.random.Generator, g: list[float], fine: bool) -> list[float]:
    """A segment whose tIoU with ``g`` is often exactly a threshold."""
    s, e = g
    length = e - s
    kind = rng.random()
    if kind < 0.5 and not fine:
        j = int(rng.choice([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]))
        cut = length * j / 20
        return [s, s + cut] if rng.random() < 0.5 else [e - cut, e]
    if kind < 0.75:
        d = length * float(rng.choice([1 / 3, 0.25, 0.125, 0.5])) if not fine else round(rng.uniform(0, 5), 3)
        d = d if rng.random() < 0.5 else -d
        return [s + d, e + d] if s + d >= 0 else [s, e + abs(d)]
    jitter = [int(rng.integers(-4, 5)) * 0.25, int(rng.integers(-4, 5)) * 0.25]
    if fine:
        jitter = [round(float(rng.uniform(-2, 2)), 3), round(float(rng.uniform(-2, 2)), 3)]
    a, b = sorted([max(0.0, s + jitter[0]), max(0.0, e + jitter[1])])
    return [a, b] if b > a else [a, a + 0.25]


def make_case(seed: int) -> dict:
    """Ground truth and predictions of one randomized case (plain dicts, ActivityNet field names)."""
    rng = np.random.default_rng(seed)
    fine = seed % 5 == 4
    many = seed % 10 == 7  # more than 100 proposals per video
    vids = [f"v_{seed:02d}_{v}" for v in range(int(rng.integers(2, 7)))]
    gt: dict[str, list[dict]] = {}
    for v, vid in enumerate(vids):
        n_gt = 0 if v == 1 and seed % 3 == 0 else int(rng.choice([1, 1, 2, 3, 4, 6]))
        gt[vid] = [
            {"segment": _gt_segment(rng, fine), "label": LABELS[int(rng.integers(0, len(LABELS)))]}
            for _ in range(n_gt)
        ]
    if seed % 6 == 5:  # "swim" has ground truth but is never predicted (AP 0)
        gt[vids[0]].append({"segment": [1.0, 3.0], "label": "swim"})
        gt[vids[0]].append({"segment": [2.0, 12.0], "label": "run"})
    # The official code fails on a predicted label absent from the ground truth: predict known ones only.
    known = {g["label"] for es in gt.values() for g in es}
    pred_labels = [c for c in LABELS if c in known and not (seed % 6 == 5 and c == "swim")]

    preds: dict[str, list[dict]] = {}
    for v, vid in enumerate(vids):
        if v == 2 and seed % 4 == 1:
            continue  # a ground-truth video without predictions
        n_pred = int(rng.integers(105, 130)) if many else int(rng.integers(1, 30))
        gt_segs = np.array([g["segment"] for g in gt[vid]], dtype=np.float64).reshape(-1, 2)
        gt_labels = [g["label"] for g in gt[vid]]
        entries = []
        for _ in range(n_pred):
            for _attempt in range(20):
                label = pred_labels[int(rng.integers(len(pred_labels)))]
                if gt[vid] and rng.random() < 0.6:
                    k = int(rng.integers(len(gt[vid])))
                    seg = _near(rng, gt[vid][k]["segment"], fine)
                    if rng.random() < 0.85 and gt_labels[k] in pred_labels:
                        label = gt_labels[k]
                else:
                    seg = _grid_segment(rng, fine)
                same = np.array([g == label for g in gt_labels], dtype=bool)
                if same.sum() < 2:
                    break
                ious = _tiou(seg, gt_segs[same])
                top = ious[ious >= THRESHOLDS.min()]
                if len(np.unique(top)) == len(top):
                    break  # no equal-tIoU tie among matchable ground truth
            else:
                continue
            entries.append({"segment": seg, "label": label})
        preds[vid] = entries
    if seed % 3 == 0:  # a video absent from the ground truth
        preds[f"x_{seed:02d}"] = [
            {"segment": _grid_segment(rng, fine), "label": pred_labels[int(rng.integers(len(pred_labels)))]}
            for _ in range(int(rng.integers(1, 6)))
        ]
    n_total = sum(len(es) for es in preds.values())
    scores = rng.choice(np.arange(1, 10000), size=n_total, replace=False) / 10000.0
    it = iter(scores.tolist())
    for es in preds.values():
        for e in es:
            e["score"] = next(it)
    max_avg = [100, 100, 100, 50, 10, 5, 2.5, None][seed % 8]
    return {
        "name": f"case{seed:02d}",
        "seed": seed,
        "max_avg_nr_proposals": max_avg,
        "ground_truth": gt,
        "predictions": preds,
    }


def _write_inputs(case: dict, folder: Path) -> tuple[Path, Path]:
    database = {
        vid: {
            "subset": "validation",
            "annotations": [{"segment": g["segment"], "label": g["label"]} for g in es],
        }
        for vid, es in case["ground_truth"].items()
    }
    gt_file, pred_file = folder / f"{case['name']}_gt.json", folder / f"{case['name']}_pred.json"
    gt_file.write_text(json.dumps({"database": database, "taxonomy": [], "version": "VERSION 1.3"}))
    results = {"results": case["predictions"], "version": "VERSION 1.3", "external_data": {}}
    pred_file.write_text(json.dumps(results))
    return gt_file, pred_file


def run_official(case: dict, folder: Path, eval_proposal, eval_detection) -> dict:
    """Score one case with the official classes; returns the stored outputs."""
    gt_file, pred_file = _write_inputs(case, folder)
    prop = eval_proposal.ANETproposal(
        str(gt_file), str(pred_file), max_avg_nr_proposals=case["max_avg_nr_proposals"], check_status=False
    )
    prop.evaluate()
    ppv = prop.proposals_per_video
    # The AUC as the official verbose report computes it (evaluate() does not keep it).
    auc = 100.0 * float(np.trapezoid(prop.avg_recall, ppv)) / ppv[-1]
    if not np.isfinite(auc):
        raise RuntimeError(f"{case['name']}: no kept proposal; change the case")
    det = eval_detection.ANETdetection(str(gt_file), str(pred_file), check_status=False)
    det.evaluate()
    return {
        "proposal": {
            "average_recall": prop.avg_recall.tolist(),
            "proposals_per_video": ppv.tolist(),
            "recall_columns": RECALL_COLUMNS,
            "recall": prop.recall[:, RECALL_COLUMNS].tolist(),
            "auc": auc,
        },
        "detection": {
            "ap": {label: det.ap[:, c].tolist() for label, c in det.activity_index.items()},
            "mAP": det.mAP.tolist(),
            "average_mAP": float(det.average_mAP),
        },
    }


def main(argv: list[str] | None = None) -> None:
    """Build the fixture from the official code folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "official", type=Path, help="folder with eval_proposal.py, eval_detection.py, utils.py"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).with_name("fixtures") / "activitynet_official.json"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.official.resolve()))
    import eval_detection  # noqa: PLC0415 - the official code, found through the argument
    import eval_proposal  # noqa: PLC0415

    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(N_CASES):
            case = make_case(seed)
            case.update(run_official(case, Path(tmp), eval_proposal, eval_detection))
            cases.append(case)
    fixture = {
        "about": "Inputs and outputs of the official ActivityNet evaluation code (activitynet/ActivityNet, "
        "Evaluation/eval_proposal.py, eval_detection.py, utils.py) on randomized cases; made by "
        "make_official_fixture.py, which documents the cases and the Python 3 changes to that code.",
        "tiou_thresholds": THRESHOLDS.tolist(),
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
