"""THUMOS14 per-class annotations, Ambiguous handling, clipping, the class map and the feature dataset."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from action_core.api import AnnotationError, thumos14_detection_map
from action_testkit import PluginConformance
from action_thumos14.annotations import (
    THUMOS14_CLASSES,
    THUMOS14_UCF101_IDS,
    load_durations,
    read_temporal_annotations,
)
from action_thumos14.dataset import build

DURATIONS = {"video_test_0000004": 30.0, "video_test_0000006": 50.0, "video_test_0000007": 20.0}


class TestConformance(PluginConformance):
    plugin = "thumos14"


@pytest.fixture
def root(tmp_path):
    ann = tmp_path / "annotations" / "test"
    ann.mkdir(parents=True)
    (ann / "BaseballPitch_test.txt").write_text(
        "video_test_0000004 1.0 4.5\nvideo_test_0000006  10.2  19.9 \n\n"
    )
    (ann / "VolleyballSpiking_test.txt").write_text(
        "video_test_0000004 20.0 35.0\nvideo_test_0000006 60.0 61.0\n"
    )
    # one video with only an Ambiguous segment, as in the real test set
    (ann / "Ambiguous_test.txt").write_text("video_test_0000007 2.0 3.0\nvideo_test_0000004 5.0 6.0\n")
    (tmp_path / "durations.json").write_text(json.dumps(DURATIONS))
    feats = tmp_path / "features"
    feats.mkdir()
    for i, name in enumerate(DURATIONS):
        np.save(feats / f"{name}.npy", np.random.default_rng(i).normal(size=(40, 6)).astype(np.float32))
    return tmp_path


def test_class_map_has_the_20_classes_with_ucf101_ids():
    assert len(THUMOS14_CLASSES) == 20
    assert THUMOS14_CLASSES[0] == "BaseballPitch" and THUMOS14_UCF101_IDS["BaseballPitch"] == 7
    assert THUMOS14_CLASSES[-1] == "VolleyballSpiking" and THUMOS14_UCF101_IDS["VolleyballSpiking"] == 97
    assert sorted(THUMOS14_UCF101_IDS.values()) == [THUMOS14_UCF101_IDS[c] for c in THUMOS14_CLASSES]


def test_read_clips_past_end_drops_after_end_keeps_ambiguous(root, caplog):
    with caplog.at_level(logging.INFO):
        anns = read_temporal_annotations(root / "annotations" / "test", "test", durations=DURATIONS)
    v4 = [(s.start, s.end, s.label) for s in anns["video_test_0000004"]]
    assert v4 == [(1.0, 4.5, "BaseballPitch"), (5.0, 6.0, "Ambiguous"), (20.0, 30.0, "VolleyballSpiking")]
    assert [(s.start, s.end) for s in anns["video_test_0000006"]] == [(10.2, 19.9)]  # 60-61 s is past the end
    assert "dropped" in caplog.text and "clipped" in caplog.text
    assert [s.label for s in anns["video_test_0000007"]] == ["Ambiguous"]
    unclipped = read_temporal_annotations(root / "annotations" / "test", "test")
    assert unclipped["video_test_0000004"][-1].end == 35.0


def test_dataset_excludes_ambiguous_from_targets_and_evaluation(root):
    ds = build("test", root=str(root), temporal_scale=20, feat_dim=6, test_mode=True)
    assert ds.classes == THUMOS14_CLASSES and len(ds) == 3
    item = ds[0]
    assert item["video_name"] == "video_test_0000004" and item["inputs"].shape == (6, 20)
    assert item["label"].tolist() == [0, 19]
    np.testing.assert_allclose(item["gt_bbox"].numpy(), [[1 / 30, 4.5 / 30], [20 / 30, 1.0]])
    assert ds[2]["gt_bbox"].shape == (0, 2)  # only Ambiguous
    gt = ds.ground_truth()
    assert all(e["label"] != "Ambiguous" for v in gt.values() for e in v)
    with_amb = ds.ground_truth(include_ambiguous=True)
    assert {"segment": [5.0, 6.0], "label": "Ambiguous"} in with_amb["video_test_0000004"]
    # a detection on the Ambiguous segment is neither a hit nor a false positive
    preds = {"video_test_0000004": [{"segment": [1.0, 4.5], "score": 0.9, "label": "BaseballPitch"}]}
    res = thumos14_detection_map(with_amb, preds, unknown_labels="ignore")
    assert res.ap[:, THUMOS14_CLASSES.index("BaseballPitch")].tolist() == [0.5] * 5  # 1 of 2 gt found
    train = build("test", root=str(root), temporal_scale=20, feat_dim=6)
    assert [v.name for v in train.videos] == ["video_test_0000004", "video_test_0000006"]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (
            "video_test_0000004 9.0 3.0",
            r":1: video 'video_test_0000004': field 'segment' has start 9.0 > end 3.0",
        ),
        ("video_test_0000004 9.0", r":1: expected 'video_name start_sec end_sec'"),
        ("video_test_0000004 a 3.0", r":1: video 'video_test_0000004': start/end must be numbers"),
        ("video_test_0000099 1.0 2.0", r":1: video 'video_test_0000099': no duration given"),
    ],
)
def test_malformed_rows_name_file_line_and_video(tmp_path, line, match):
    (tmp_path / "Diving_test.txt").write_text(line + "\n")
    with pytest.raises(AnnotationError, match=match) as info:
        read_temporal_annotations(tmp_path, "test", durations=DURATIONS)
    assert "Diving_test.txt" in str(info.value)


def test_unknown_class_file_is_an_error(tmp_path):
    (tmp_path / "Divng_val.txt").write_text("video_validation_0000001 1 2\n")
    with pytest.raises(AnnotationError, match="unknown class 'Divng'"):
        read_temporal_annotations(tmp_path, "val")


def test_durations_from_csv_and_bad_values(tmp_path):
    (tmp_path / "d.csv").write_text("video,duration\nvideo_test_0000004,30.5\n")
    assert load_durations(tmp_path / "d.csv") == {"video_test_0000004": 30.5}
    with pytest.raises(AnnotationError, match="'duration' must be > 0"):
        load_durations({"video_test_0000004": -1})
