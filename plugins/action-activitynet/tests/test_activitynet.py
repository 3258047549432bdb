"""ActivityNet annotations (both forms), features, the dataset schema, `prepare`, and malformed inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from action_activitynet.annotations import convert_official, load_annotations, load_video_info_csv
from action_activitynet.dataset import build
from action_activitynet.prepare import main as prepare_main
from action_core.api import AnnotationError, collate_localization, gt_bbox_of, load_features, rescale_features
from action_testkit import PluginConformance

OFFICIAL = {
    "version": "VERSION 1.3",
    "taxonomy": [],
    "database": {
        "aaa": {
            "subset": "training",
            "duration": 30.0,
            "annotations": [{"segment": [3.0, 12.0], "label": "Run"}],
        },
        "bbb": {
            "subset": "validation",
            "duration": 20.0,
            "annotations": [
                {"segment": [0.0, 5.0], "label": "Jump"},
                {"segment": [15.0, 25.0], "label": "Run"},
            ],
        },
        "ccc": {"subset": "testing", "duration": 10.0, "annotations": []},
    },
}


class TestConformance(PluginConformance):
    plugin = "activitynet"


def _features(folder, name, rows, cols=8, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(seed).normal(size=(rows, cols)).astype(np.float32)
    np.savetxt(
        folder / f"{name}.csv", arr, delimiter=",", header=",".join(f"c{i}" for i in range(cols)), comments=""
    )
    return arr


@pytest.fixture
def official(tmp_path):
    path = tmp_path / "activity_net.v1-3.min.json"
    path.write_text(json.dumps(OFFICIAL))
    return path


def test_convert_official_to_mmaction2_form(official):
    splits = convert_official(json.loads(official.read_text())["database"], fps=30.0)
    assert (
        set(splits["train"]) == {"v_aaa"}
        and set(splits["val"]) == {"v_bbb"}
        and set(splits["test"]) == {"v_ccc"}
    )
    b = splits["val"]["v_bbb"]
    assert b["duration_frame"] == 600 and b["feature_frame"] == 592 and b["duration_second"] == 20.0
    assert b["annotations"][1] == {"segment": [15.0, 25.0], "label": "Run"}


def test_video_info_csv_sets_frames(tmp_path, official):
    csv = tmp_path / "video_info_new.csv"
    csv.write_text(
        "video,numFrame,seconds,fps,rfps,subset,featureFrame\nv_bbb,599,19.97,30,29.97,validation,592\n"
    )
    splits = convert_official(
        json.loads(official.read_text())["database"], video_info=load_video_info_csv(csv)
    )
    assert splits["val"]["v_bbb"]["duration_frame"] == 599 and splits["val"]["v_bbb"]["rfps"] == 29.97


def test_gt_bbox_normalised_and_clipped_as_mmaction2(official):
    videos = load_annotations(official, subset="validation")
    v = videos["v_bbb"]
    span = 592 / 600 * 20.0
    np.testing.assert_allclose(gt_bbox_of(v), [[0.0, 5.0 / span], [15.0 / span, 1.0]])


def test_dataset_items_follow_the_localization_schema(tmp_path, official):
    _features(tmp_path / "features", "v_bbb", rows=25)
    ds = build(
        "validation",
        root=str(tmp_path),
        annotation_file=str(official.name),
        temporal_scale=10,
        feat_dim=8,
        test_mode=True,
    )
    assert len(ds) == 1 and ds.classes == ["Jump", "Run"] and ds.multi_label is False
    item = ds[0]
    assert item["inputs"].shape == (8, 10) and item["inputs"].dtype == torch.float32
    assert item["gt_bbox"].shape == (2, 2) and item["label"].tolist() == [0, 1]
    assert item["video_name"] == "v_bbb" and item["index"] == 0 and item["duration_frame"] == 600
    batch = collate_localization([item, item])
    assert batch["inputs"].shape == (2, 8, 10) and len(batch["gt_bbox"]) == 2
    assert ds.ground_truth()["v_bbb"][0] == {"segment": [0.0, 5.0], "label": "Jump"}


def test_rescale_is_identity_at_scale_and_linear_otherwise():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    assert rescale_features(x, 6) is x
    y = rescale_features(x, 3)
    np.testing.assert_allclose(y[:, 0], [1.0, 5.0, 9.0])  # bin centres 0.5, 2.5, 4.5 between old rows
    z = rescale_features(x, 12)
    assert z.shape == (12, 2) and z[0, 0] == 0.0 and z[-1, 0] == 10.0


def test_training_split_drops_unannotated_videos(tmp_path):
    anno = {
        "v_x": {"duration_second": 10.0, "duration_frame": 300, "feature_frame": 288, "annotations": []},
        "v_y": {
            "duration_second": 10.0,
            "duration_frame": 300,
            "annotations": [{"segment": [1, 2], "label": "a"}],
        },
    }
    (tmp_path / "anno_train.json").write_text(json.dumps(anno))
    _features(tmp_path / "features", "v_x", rows=5)
    _features(tmp_path / "features", "v_y", rows=5)
    assert [v.name for v in build("train", root=str(tmp_path), temporal_scale=5).videos] == ["v_y"]
    assert len(build("train", root=str(tmp_path), temporal_scale=5, test_mode=True)) == 2


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            {
                "duration_second": 10.0,
                "duration_frame": 300,
                "annotations": [{"segment": [5, 2], "label": "a"}],
            },
            "start 5.0 > end 2.0",
        ),
        ({"duration_second": "x", "duration_frame": 300}, "'duration_second' must be a number"),
        ({"duration_second": 10.0}, "'duration_frame' is missing"),
        (
            {"duration_second": 10.0, "duration_frame": 300, "feature_frame": 400},
            "'feature_frame' .* exceeds",
        ),
        (
            {"duration_second": 10.0, "duration_frame": 300, "annotations": [{"segment": [1], "label": "a"}]},
            "segment' must be",
        ),
    ],
)
def test_malformed_annotations_name_video_and_field(tmp_path, entry, match):
    path = tmp_path / "anno.json"
    path.write_text(json.dumps({"v_bad": entry}))
    with pytest.raises(AnnotationError, match=match) as info:
        load_annotations(path)
    assert "v_bad" in str(info.value) and str(path) in str(info.value)


def test_malformed_features_name_video_and_field(tmp_path):
    arr = _features(tmp_path, "v_nan", rows=4)
    arr[2, 3] = np.nan
    np.savetxt(tmp_path / "v_nan.csv", arr, delimiter=",")
    with pytest.raises(AnnotationError, match=r"v_nan.*'features'.*row 2, column 3"):
        load_features(tmp_path / "v_nan.csv", video="v_nan")
    _features(tmp_path, "v_wide", rows=4, cols=6)
    with pytest.raises(AnnotationError, match=r"v_wide.*6 columns, expected feat_dim=8"):
        load_features(tmp_path / "v_wide.csv", video="v_wide", feat_dim=8)
    np.save(tmp_path / "v_3d.npy", np.zeros((2, 3, 4)))
    with pytest.raises(AnnotationError, match=r"v_3d.*2-D"):
        load_features(tmp_path / "v_3d.npy", video="v_3d")
    with pytest.raises(AnnotationError, match=r"v_gone.*missing"):
        load_features(tmp_path / "v_gone.csv", video="v_gone")


def test_dataset_reports_missing_feature_files(tmp_path, official):
    (tmp_path / "features").mkdir()
    with pytest.raises(AnnotationError, match=r"1 video\(s\) have no feature file.*v_bbb"):
        build("val", root=str(tmp_path), annotation_file=official.name)


def test_pipeline_other_than_the_localization_steps_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pipeline"):
        build("train", root=str(tmp_path), pipeline=[{"type": "Resize"}])


def test_prepare_writes_splits_and_checks_features(tmp_path, official, capsys):
    out = tmp_path / "out"
    feats = tmp_path / "feats"
    _features(feats, "v_aaa", rows=100, cols=8)
    bad = _features(feats, "v_bbb", rows=100, cols=8)
    bad[0, 0] = np.inf
    np.savetxt(feats / "v_bbb.csv", bad, delimiter=",")
    code = prepare_main(
        [
            "prepare",
            "--annotations",
            str(official),
            "--out",
            str(out),
            "--features",
            str(feats),
            "--feat-dim",
            "8",
        ]
    )
    text = capsys.readouterr().out
    assert code == 1
    assert "v_bbb" in text and "non-finite" in text and "'v_ccc': feature file missing" in text
    assert set(json.loads((out / "anno_full.json").read_text())) == {"v_aaa", "v_bbb", "v_ccc"}
    assert (out / "classes.txt").read_text().split() == ["Jump", "Run"]
    assert load_annotations(out / "anno_val.json")["v_bbb"].feature_frame == 592
    _features(feats, "v_bbb", rows=100, cols=8)
    _features(feats, "v_ccc", rows=100, cols=8)
    assert (
        prepare_main(["prepare", "--annotations", str(official), "--out", str(out), "--features", str(feats)])
        == 0
    )
