"""tIoU, Soft-NMS, BMN/BSN score fusion and post-processing, ActivityNet results files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from action_core.localization import (
    bmn_proposals,
    boundary_candidates,
    bsn_proposals,
    pairwise_temporal_iou,
    post_process_proposals,
    read_activitynet_ground_truth,
    read_activitynet_results,
    soft_nms,
    strip_video_prefix,
    temporal_iou,
    write_activitynet_results,
)

# ---- tIoU ------------------------------------------------------------------------------------------


def test_temporal_iou_known_values_are_exact_in_float64():
    got = temporal_iou([0.0, 2.0], [[0.0, 1.0], [1.0, 3.0], [2.0, 4.0], [0.0, 2.0], [-1.0, 3.0]])
    assert got.dtype == np.float64
    assert got.tolist() == [0.5, 1 / 3, 0.0, 1.0, 0.5]
    assert temporal_iou([0.0, 5.0], [[0.0, 3.0]])[0] == 0.6  # the float nearest 0.6, as a threshold
    # float32 inputs are promoted before computing.
    a = np.array([[0.1, 0.7]], dtype=np.float32)
    assert pairwise_temporal_iou(a, a)[0, 0] == 1.0


def test_pairwise_matches_single_rows_and_accepts_tensors():
    rng = np.random.default_rng(0)
    a = np.sort(rng.random((5, 2)) * 10, axis=1)
    b = np.sort(rng.random((7, 2)) * 10, axis=1)
    m = pairwise_temporal_iou(torch.from_numpy(a), b)
    assert m.shape == (5, 7)
    for i in range(5):
        np.testing.assert_array_equal(m[i], temporal_iou(a[i], b))
    np.testing.assert_array_equal(m, pairwise_temporal_iou(b, a).T)
    assert pairwise_temporal_iou(np.zeros((0, 2)), b).shape == (0, 7)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        pairwise_temporal_iou(np.zeros((3, 3)), b)


# ---- Soft-NMS ---------------------------------------------------------------------------------------


def loop_soft_nms(rows, alpha, low, high, top_k):
    """MMAction2's Soft-NMS restated with Python lists, one candidate at a time."""
    order = sorted(range(len(rows)), key=lambda i: (-rows[i][-1], -i))
    starts = [rows[i][0] for i in order]
    ends = [rows[i][1] for i in order]
    scores = [rows[i][-1] for i in order]
    kept = []
    while scores and len(kept) <= top_k:
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        width = ends[best] - starts[best]
        for i in range(len(scores)):
            if i == best:
                continue
            inter = max(min(ends[best], ends[i]) - max(starts[best], starts[i]), 0.0)
            union = width - inter + ends[i] - starts[i]
            iou = inter / union
            if iou > low + (high - low) * width:
                scores[i] = scores[i] * math.exp(-(iou**2) / alpha)
        kept.append([starts[best], ends[best], scores[best]])
        del starts[best], ends[best], scores[best]
    return kept


@pytest.mark.parametrize("seed", range(15))
def test_soft_nms_equals_loop_statement(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    t = np.sort(rng.integers(0, 20, size=(n, 2)) / 20.0, axis=1)
    t[t[:, 0] == t[:, 1], 1] += 0.05
    scores = np.round(rng.random(n), int(rng.choice([1, 6])))  # with ties
    rows = np.column_stack([t, rng.random((n, 3)), scores])
    alpha, low, high, top_k = 0.4, 0.5, 0.9, int(rng.choice([3, 10, 100]))
    got = soft_nms(rows, alpha=alpha, low_threshold=low, high_threshold=high, top_k=top_k)
    want = loop_soft_nms(rows.tolist(), alpha, low, high, top_k)
    np.testing.assert_allclose(got, np.array(want).reshape(-1, 3), rtol=0, atol=1e-12)
    assert len(got) == min(n, top_k + 1)


def test_soft_nms_hand_case():
    rows = np.array([[0.0, 0.5, 0.8], [0.0, 0.5, 0.9], [0.6, 0.9, 0.7]])
    got = soft_nms(rows, alpha=0.4, low_threshold=0.5, high_threshold=0.9, top_k=100)
    # The kept [0, 0.5] (width 0.5) suppresses above tIoU 0.5 + 0.4 * 0.5 = 0.7; its twin (tIoU 1) decays.
    np.testing.assert_allclose(got, [[0.0, 0.5, 0.9], [0.6, 0.9, 0.7], [0.0, 0.5, 0.8 * math.exp(-1 / 0.4)]])


def test_post_process_scales_to_seconds_and_keeps_top_k():
    rows = np.array([[-0.1, 0.5, 0.3], [0.2, 1.2, 0.9], [0.0, 0.1, 0.5]])
    out = post_process_proposals(
        rows, duration_second=100.0, duration_frame=100, feature_extraction_interval=16, top_k=2
    )
    covered = 96 / 100 * 100.0  # whole 16-frame snippets only
    assert [p["score"] for p in out] == [0.9, 0.5]
    assert out[0]["segment"] == pytest.approx([0.2 * covered, 1.0 * covered])
    assert out[1]["segment"] == pytest.approx([0.0, 0.1 * covered])
    single = post_process_proposals(rows[:1], duration_second=10.0, duration_frame=32)
    assert single == [{"score": 0.3, "segment": [0.0, pytest.approx(5.0)]}]
    with pytest.raises(ValueError, match="duration_frame"):
        post_process_proposals(rows, duration_second=10.0, duration_frame=0)


# ---- score fusion ---------------------------------------------------------------------------------


def loop_bmn(start, end, cmap):
    """BMN's candidate enumeration restated with loops (duration outer, start inner)."""
    t = len(start)
    sbin = [0] * t
    ebin = [0] * t
    sbin[0] = 1
    ebin[-1] = 1
    for i in range(1, t - 1):
        if (start[i] > start[i + 1] and start[i] > start[i - 1]) or start[i] > 0.5 * max(start):
            sbin[i] = 1
        if (end[i] > end[i + 1] and end[i] > end[i - 1]) or end[i] > 0.5 * max(end):
            ebin[i] = 1
    out = []
    for d in range(cmap.shape[1]):
        for s in range(t):
            e = s + d + 1
            if e < t and sbin[s] and ebin[e]:
                score = start[s] * end[e] * cmap[1, d, s] * cmap[0, d, s]
                out.append([s / t, e / t, start[s], end[e], cmap[1, d, s], cmap[0, d, s], score])
    return out


@pytest.mark.parametrize("seed", range(5))
def test_bmn_proposals_equal_loop_statement(seed):
    rng = np.random.default_rng(seed)
    t = int(rng.integers(3, 16))
    start = rng.random(t).astype(np.float32)
    end = rng.random(t).astype(np.float32)
    cmap = rng.random((2, t, t)).astype(np.float32)
    got = bmn_proposals(torch.from_numpy(start), end, cmap)
    want = np.array(loop_bmn(start, end, cmap), dtype=np.float64).reshape(-1, 7)
    np.testing.assert_array_equal(got, want)


def test_boundary_candidates_hand_case():
    s = np.array([0.1, 0.3, 0.2, 0.9, 0.1, 0.2])
    # interior: 0.3 is a local peak, 0.9 a peak, nothing else above 0.45
    assert boundary_candidates(s).tolist() == [True, True, False, True, False, False]
    assert boundary_candidates(s, kind="end").tolist() == [False, True, False, True, False, True]


def test_bsn_proposals_fuse_pem_and_boundary_scores():
    got = bsn_proposals([0.1, 0.2], [0.5, 0.9], [0.5, 1.0], [0.4, 0.5], [0.5, 0.2])
    np.testing.assert_allclose(got[:, -1], [0.5 * 0.5 * 0.4, 0.2 * 1.0 * 0.5])
    assert got.shape == (2, 6)
    with pytest.raises(ValueError, match="same length"):
        bsn_proposals([0.1], [0.5, 0.9], [0.5], [0.4], [0.5])


# ---- results files --------------------------------------------------------------------------------


def test_results_round_trip_in_official_layout(tmp_path):
    results = {
        strip_video_prefix("v_abc"): [{"label": "Run", "score": 0.9, "segment": [1.0, 2.5]}],
        "def": [{"score": 0.1, "segment": [0, 3]}],
    }
    path = write_activitynet_results(tmp_path / "out" / "results.json", results)
    raw = json.loads(path.read_text())
    assert set(raw) == {"version", "results", "external_data"}
    assert raw["results"]["abc"] == [{"label": "Run", "score": 0.9, "segment": [1.0, 2.5]}]
    back = read_activitynet_results(path)
    assert back == {"abc": results["abc"], "def": [{"score": 0.1, "segment": [0.0, 3.0]}]}
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temporary file left behind


def test_results_errors_name_video_and_field(tmp_path):
    with pytest.raises(ValueError, match=r"results\['v1'\]\[0\]: field 'segment' has start 3.0 > end 1.0"):
        write_activitynet_results(tmp_path / "r.json", {"v1": [{"score": 1, "segment": [3, 1]}]})
    with pytest.raises(ValueError, match=r"results\['v1'\]\[0\]: field 'score' is missing"):
        write_activitynet_results(tmp_path / "r.json", {"v1": [{"segment": [0, 1]}]})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_activitynet_results(bad)
    with pytest.raises(OSError, match="cannot read"):
        read_activitynet_results(tmp_path / "missing.json")


def test_read_ground_truth_subset(tmp_path):
    db = {
        "version": "VERSION 1.3",
        "taxonomy": [],
        "database": {
            "a": {
                "subset": "validation",
                "duration": 10.0,
                "annotations": [{"segment": [1, 2], "label": "Run"}],
            },
            "b": {
                "subset": "training",
                "duration": 10.0,
                "annotations": [{"segment": [1, 2], "label": "Run"}],
            },
            "c": {"subset": "validation", "duration": 10.0, "annotations": []},
        },
    }
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(db))
    gt = read_activitynet_ground_truth(path)
    assert gt == {"a": [{"segment": [1.0, 2.0], "label": "Run"}], "c": []}
    db["database"]["a"]["annotations"][0]["segment"] = [5, 2]
    path.write_text(json.dumps(db))
    with pytest.raises(ValueError, match=r"database\['a'\].annotations\[0\]: field 'segment' has start"):
        read_activitynet_ground_truth(path)
