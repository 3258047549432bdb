"""AR@AN, AUC and detection mAP equal the official ActivityNet evaluation code's on stored cases.

``fixtures/activitynet_official.json`` holds 30 randomized cases with the numbers the official
``ANETproposal`` / ``ANETdetection`` (activitynet/ActivityNet, ``Evaluation/``) gave for them; it was made by
``make_official_fixture.py`` (which documents the cases: tIoUs exactly on thresholds, videos without
ground truth, classes without predictions, distinct scores because the official sort is not stable).
The official code is not needed here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from action_core.evaluation import (
    ACTIVITYNET_TIOU_THRESHOLDS,
    average_recall_at_avg_proposals,
    detection_average_precision,
)
from action_core.localization.tiou import pairwise_temporal_iou

FIXTURE = Path(__file__).with_name("fixtures") / "activitynet_official.json"
ATOL = 1e-6


def _load() -> dict:
    return json.loads(FIXTURE.read_text())


_DATA = _load()
CASES = {case["name"]: case for case in _DATA["cases"]}


def test_fixture_covers_the_hard_cases():
    """The stored cases really contain what the bar asks for (so the comparison below means something)."""
    assert len(CASES) >= 30
    assert _DATA["tiou_thresholds"] == ACTIVITYNET_TIOU_THRESHOLDS.tolist()
    on_threshold = 0
    thresholds = ACTIVITYNET_TIOU_THRESHOLDS
    for case in CASES.values():
        gt, preds = case["ground_truth"], case["predictions"]
        for vid, entries in preds.items():
            if gt.get(vid) and entries:
                tiou = pairwise_temporal_iou(
                    [e["segment"] for e in entries], [g["segment"] for g in gt[vid]]
                ).ravel()
                # tIoU within 1e-12 of a threshold, on either side (0.7 is just below np.linspace's 0.7).
                on_threshold += int((np.abs(tiou[:, None] - thresholds[None]) < 1e-12).sum())
        scores = [e["score"] for entries in preds.values() for e in entries]
        assert len(set(scores)) == len(scores), f"{case['name']}: score ties have no defined official order"
    assert on_threshold >= 100
    assert any(
        vid in c["ground_truth"] and not c["ground_truth"][vid]
        for c in CASES.values()
        for vid in c["predictions"]
    )
    assert any(vid not in c["ground_truth"] for c in CASES.values() for vid in c["predictions"])
    assert any(c["max_avg_nr_proposals"] == 100 for c in CASES.values())
    assert any(
        c["max_avg_nr_proposals"] is not None and c["max_avg_nr_proposals"] < 100 for c in CASES.values()
    )
    assert any(min(a) == max(a) == 0.0 for c in CASES.values() for a in c["detection"]["ap"].values())
    assert any(
        max(len(es) for es in c["predictions"].values()) > 100 and c["max_avg_nr_proposals"] == 100
        for c in CASES.values()
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_proposal_ar_an_and_auc_equal_official(name):
    case = CASES[name]
    want = case["proposal"]
    got = average_recall_at_avg_proposals(
        case["ground_truth"], case["predictions"], max_avg_proposals=case["max_avg_nr_proposals"]
    )
    np.testing.assert_allclose(got.average_recall, want["average_recall"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(got.proposals_per_video, want["proposals_per_video"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(got.recall[:, want["recall_columns"]], want["recall"], atol=ATOL, rtol=0)
    assert got.auc == pytest.approx(want["auc"], abs=ATOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_detection_ap_and_map_equal_official(name):
    case = CASES[name]
    want = case["detection"]
    got = detection_average_precision(case["ground_truth"], case["predictions"])
    assert sorted(got.classes) == sorted(want["ap"])
    for c, label in enumerate(got.classes):
        np.testing.assert_allclose(
            got.ap[:, c], want["ap"][label], atol=ATOL, rtol=0, err_msg=f"class {label}"
        )
    np.testing.assert_allclose(got.mAP, want["mAP"], atol=ATOL, rtol=0)
    assert got.average_mAP == pytest.approx(want["average_mAP"], abs=ATOL)
