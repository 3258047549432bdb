"""AR@AN, AUC and detection mAP against the loop-based reference of the official algorithms."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from action_core.evaluation import (
    ACTIVITYNET_TIOU_THRESHOLDS,
    ActivityNetDetectionMetric,
    ActivityNetProposalMetric,
    Thumos14DetectionMetric,
    average_recall_at_avg_proposals,
    detection_average_precision,
    interpolated_average_precision,
    thumos14_detection_map,
)


def _load_reference():
    # Loaded by path so the test works under any pytest import mode without an __init__.py.
    path = Path(__file__).with_name("reference_activitynet.py")
    spec = importlib.util.spec_from_file_location("reference_activitynet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ref = _load_reference()
reference_average_recall = _ref.reference_average_recall
reference_detection = _ref.reference_detection
reference_interpolated_ap = _ref.reference_interpolated_ap

LABELS = ["run", "jump", "swim", "climb"]


def _segment(rng, grid):
    """Segments on a coarse grid so that tIoU often lands exactly on 0.5, 0.6, 0.75, ... thresholds."""
    a, b = sorted(rng.integers(0, 21, size=2).tolist())
    if b == a and rng.random() < 0.8:
        b = a + 1
    return [a * grid, b * grid]


def random_case(seed: int):
    """Ground truth and predictions with score ties, threshold ties, videos without gt or predictions."""
    rng = np.random.default_rng(seed)
    grid = float(rng.choice([0.5, 1.0, 2.5]))
    n_videos = int(rng.integers(1, 9))
    gt, preds = {}, {}
    for v in range(n_videos):
        vid = f"v{v}"
        n_gt = int(rng.choice([0, 1, 1, 2, 3, 5]))
        gt[vid] = [{"segment": _segment(rng, grid), "label": str(rng.choice(LABELS))} for _ in range(n_gt)]
        if rng.random() < 0.15:
            continue  # a video without predictions
        n_pred = int(rng.integers(0, 25))
        score_decimals = int(rng.choice([1, 2, 6]))
        entries = []
        for _ in range(n_pred):
            if gt[vid] and rng.random() < 0.4:  # a prediction near a gt segment
                g = gt[vid][int(rng.integers(len(gt[vid])))]
                seg = [
                    g["segment"][0] + grid * int(rng.integers(-2, 3)),
                    g["segment"][1] + grid * int(rng.integers(-2, 3)),
                ]
                seg = sorted(seg)
                label = g["label"] if rng.random() < 0.8 else str(rng.choice(LABELS))
            else:
                seg, label = _segment(rng, grid), str(rng.choice(LABELS))
            entries.append(
                {"segment": seg, "score": float(np.round(rng.random(), score_decimals)), "label": label}
            )
        preds[vid] = entries
    for extra in range(int(rng.integers(0, 3))):  # predictions for videos absent from the ground truth
        preds[f"extra{extra}"] = [
            {
                "segment": _segment(rng, grid),
                "score": float(np.round(rng.random(), 1)),
                "label": str(rng.choice(LABELS)),
            }
            for _ in range(int(rng.integers(1, 6)))
        ]
    if not any(gt.values()):
        gt["anchor"] = [{"segment": [0.0, 4.0], "label": "run"}]
    return gt, preds


def _ref_gt(gt):
    return {v: [(e["segment"][0], e["segment"][1], e["label"]) for e in es] for v, es in gt.items()}


def _ref_preds(preds):
    return {
        v: [(e["segment"][0], e["segment"][1], e["score"], e["label"]) for e in es] for v, es in preds.items()
    }


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("max_avg", [100, 5, None])
def test_average_recall_equals_reference(seed, max_avg):
    gt, preds = random_case(seed)
    if sum(len(p) for p in preds.values()) == 0:
        pytest.skip("no proposals at all")  # the official code divides by zero here
    got = average_recall_at_avg_proposals(gt, preds, max_avg_proposals=max_avg)
    try:
        recall, avg, ppv, auc = reference_average_recall(_ref_gt(gt), _ref_preds(preds), max_avg)
    except ZeroDivisionError:
        # No evaluated video keeps a proposal: the official code divides by zero; ours reports 0.
        assert not got.recall.any() and got.auc == 0.0
        return
    np.testing.assert_allclose(got.recall, recall, atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.average_recall, avg, atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.proposals_per_video, ppv, atol=1e-9, rtol=0)
    assert got.auc == pytest.approx(auc, abs=1e-6)


@pytest.mark.parametrize("seed", range(80))
def test_detection_map_equals_reference(seed):
    gt, preds = random_case(1000 + seed)
    got = detection_average_precision(gt, preds, unknown_labels="ignore")
    known = {e["label"] for es in gt.values() for e in es}
    ref_preds = {v: [p for p in ps if p[3] in known] for v, ps in _ref_preds(preds).items()}
    classes, ap, m_ap, avg = reference_detection(_ref_gt(gt), ref_preds)
    assert got.classes == classes
    np.testing.assert_allclose(got.ap, ap, atol=1e-6, rtol=0)
    np.testing.assert_allclose(got.mAP, m_ap, atol=1e-6, rtol=0)
    assert got.average_mAP == pytest.approx(avg, abs=1e-6)


@pytest.mark.parametrize("seed", range(20))
def test_thumos14_map_equals_reference_without_ambiguous(seed):
    gt, preds = random_case(5000 + seed)
    rng = np.random.default_rng(seed)
    for es in gt.values():  # relabel some ground truth as Ambiguous
        for e in es:
            if rng.random() < 0.25:
                e["label"] = "Ambiguous"
    if not any(e["label"] != "Ambiguous" for es in gt.values() for e in es):
        gt["anchor"] = [{"segment": [0.0, 4.0], "label": "run"}]
    thresholds = list(np.linspace(0.3, 0.7, 5))
    got = thumos14_detection_map(gt, preds, unknown_labels="ignore")
    clean_gt = {v: [g for g in es if g[2] != "Ambiguous"] for v, es in _ref_gt(gt).items()}
    known = {g[2] for es in clean_gt.values() for g in es}
    clean_preds = {v: [p for p in ps if p[3] in known] for v, ps in _ref_preds(preds).items()}
    _, ap, m_ap, avg = reference_detection(clean_gt, clean_preds, thresholds)
    np.testing.assert_allclose(got.ap, ap, atol=1e-6, rtol=0)
    assert got.average_mAP == pytest.approx(avg, abs=1e-6)
    assert list(got.as_dict()) == ["mAP@0.30", "mAP@0.40", "mAP@0.50", "mAP@0.60", "mAP@0.70", "average_mAP"]


def test_interpolated_ap_equals_reference():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        tp = (rng.random(n) < 0.5).astype(float)
        npos = max(1.0, tp.sum() + int(rng.integers(0, 3)))
        prec = np.cumsum(tp) / np.arange(1, n + 1)
        rec = np.cumsum(tp) / npos
        assert interpolated_average_precision(prec, rec)[0] == pytest.approx(
            reference_interpolated_ap(prec.tolist(), rec.tolist()), abs=1e-12
        )


# ---- hand-computed cases -------------------------------------------------------------------------


def test_detection_hand_case_with_exact_threshold_ties():
    gt = {"a": [{"segment": [0, 2], "label": "x"}], "b": [{"segment": [1, 3], "label": "y"}]}
    preds = {
        # tIoU([0, 1], [0, 2]) = 0.5 exactly: a true positive at 0.5 only.
        "a": [
            {"segment": [0, 1], "label": "x", "score": 0.9},
            {"segment": [0, 2], "label": "x", "score": 0.5},
        ],
        "b": [{"segment": [1, 3], "label": "y", "score": 0.3}],
    }
    res = detection_average_precision(gt, preds)
    # x at 0.5: TP then FP (gt locked) -> AP 1; above 0.5: FP then TP -> precision 1/2 at recall 1 -> AP 0.5.
    np.testing.assert_allclose(res.ap[:, 0], [1.0] + [0.5] * 9)
    np.testing.assert_allclose(res.ap[:, 1], 1.0)
    assert res.average_mAP == pytest.approx((1.0 + 9 * 0.75) / 10)


def test_detection_tiou_of_exactly_0_6_matches_at_threshold_0_6():
    gt = {"a": [{"segment": [0.0, 5.0], "label": "x"}]}
    preds = {"a": [{"segment": [0.0, 3.0], "label": "x", "score": 1.0}]}  # tIoU 3/5
    res = detection_average_precision(gt, preds)
    np.testing.assert_array_equal(res.ap[:, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    assert res.average_mAP == pytest.approx(0.3)


def test_detection_predictions_in_videos_without_ground_truth_are_false_positives():
    gt = {"a": [{"segment": [0, 10], "label": "x"}], "empty": []}
    preds = {
        "z": [{"segment": [0, 10], "label": "x", "score": 0.9}],
        "empty": [{"segment": [0, 10], "label": "x", "score": 0.85}],
        "a": [{"segment": [0, 10], "label": "x", "score": 0.8}],
    }
    res = detection_average_precision(gt, preds)
    np.testing.assert_allclose(res.ap, 1 / 3)  # precision 1/3 at recall 1, interpolated


def test_detection_class_without_predictions_has_ap_zero_and_unknown_labels_error():
    gt = {"a": [{"segment": [0, 10], "label": "x"}, {"segment": [20, 30], "label": "y"}]}
    preds = {"a": [{"segment": [0, 10], "label": "x", "score": 0.9}]}
    res = detection_average_precision(gt, preds)
    np.testing.assert_allclose(res.mAP, 0.5)
    bad = {"a": [{"segment": [0, 10], "label": "nope", "score": 0.9}]}
    with pytest.raises(ValueError, match=r"predictions\['a'\]\[0\]: label 'nope'"):
        detection_average_precision(gt, bad)
    assert detection_average_precision(gt, bad, unknown_labels="ignore").average_mAP == 0.0


def test_malformed_segments_name_video_and_field():
    gt = {"vid1": [{"segment": [5, 1], "label": "x"}]}
    with pytest.raises(
        ValueError, match=r"ground_truth\['vid1'\]\[0\]: field 'segment' has start 5.0 > end 1.0"
    ):
        detection_average_precision(gt, {})
    with pytest.raises(ValueError, match=r"predictions\['v'\]\[0\]: segment/score must be finite"):
        detection_average_precision(
            {"v": [{"segment": [0, 1], "label": "x"}]},
            {"v": [{"segment": [0, float("nan")], "label": "x", "score": 1}]},
        )


def test_average_recall_single_proposal_on_threshold():
    gt = {"a": [{"segment": [0, 10]}]}
    props = {"a": np.array([[0.0, 5.0, 1.0]])}  # tIoU exactly 0.5
    res = average_recall_at_avg_proposals(gt, props)
    np.testing.assert_allclose(res.average_recall, 0.1)  # recalled at 1 of 10 thresholds
    np.testing.assert_allclose(res.proposals_per_video, np.arange(1, 101))
    assert res.auc == pytest.approx(100 * 0.1 * 99 / 100)
    assert res.as_dict([1, 100]) == {
        "AR@1": pytest.approx(0.1),
        "AR@100": pytest.approx(0.1),
        "AUC": pytest.approx(9.9),
    }


def test_average_recall_counts_proposals_of_videos_without_ground_truth_in_the_ratio():
    gt = {"a": [{"segment": [0, 10]}], "no_gt": []}
    # 'a' has 2 proposals, the best one useless; 'no_gt' has 198: ratio = 100 * 1 / 200 = 0.5,
    # so 'a' keeps int(2 * 0.5) = 1 proposal and never recalls its gt.
    props = {
        "a": np.array([[50.0, 60.0, 0.9], [0.0, 10.0, 0.1]]),
        "no_gt": np.tile([0.0, 1.0, 0.5], (198, 1)),
    }
    res = average_recall_at_avg_proposals(gt, props)
    np.testing.assert_array_equal(res.recall, 0.0)
    # With fewer foreign proposals 'a' keeps both and recalls at every threshold from AN = 2 on.
    props["no_gt"] = props["no_gt"][:2]
    res = average_recall_at_avg_proposals(gt, props)
    assert res.ar_at(1) == 0.0 and res.ar_at(2) == 1.0 and res.ar_at(100) == 1.0


def test_average_recall_video_without_proposals_recalls_nothing():
    gt = {"a": [{"segment": [0, 10]}], "b": [{"segment": [0, 10]}, {"segment": [20, 30]}]}
    props = {"a": [{"segment": [0, 10], "score": 1.0}]}
    res = average_recall_at_avg_proposals(gt, props)
    np.testing.assert_allclose(res.average_recall, 1 / 3)


def test_threshold_constants_are_the_official_arrays():
    np.testing.assert_array_equal(ACTIVITYNET_TIOU_THRESHOLDS, np.linspace(0.5, 0.95, 10))


def test_streaming_localization_metrics():
    gt, preds = random_case(42)
    m = ActivityNetProposalMetric()
    d = ActivityNetDetectionMetric(unknown_labels="ignore")
    t = Thumos14DetectionMetric(unknown_labels="ignore")
    vids = list(gt)
    for metric in (m, d, t):
        for lo in range(0, len(vids), 2):
            part = vids[lo : lo + 2]
            metric.update({v: preds[v] for v in part if v in preds}, {v: gt[v] for v in part})
        metric.update({v: p for v, p in preds.items() if v not in gt}, {})
    assert m.compute() == average_recall_at_avg_proposals(gt, preds).as_dict([1, 5, 10, 50, 100])
    assert d.compute() == detection_average_precision(gt, preds, unknown_labels="ignore").as_dict()
    assert t.compute() == thumos14_detection_map(gt, preds, unknown_labels="ignore").as_dict()
    m.reset()
    with pytest.raises(ValueError, match="no video has a ground-truth segment"):
        m.compute()


def test_files_written_and_read_back_evaluate_the_same(tmp_path):
    from action_core.localization import read_activitynet_results, write_activitynet_results

    gt, preds = random_case(7)
    path = write_activitynet_results(tmp_path / "results.json", preds, require_label=True)
    back = read_activitynet_results(path, require_label=True)
    a = detection_average_precision(gt, preds, unknown_labels="ignore").as_dict()
    b = detection_average_precision(gt, back, unknown_labels="ignore").as_dict()
    assert a == b
