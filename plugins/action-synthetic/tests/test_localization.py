"""Synthetic localization features: MMAction2 BSN/BMN annotation form, CSV features, planted segments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from action_synthetic.localization import generate_localization_features

ARGS = {"num_videos": 30, "temporal_scale": 50, "feat_dim": 8, "num_classes": 3, "seed": 5}


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


def _row_labels(info, classes, temporal_scale):
    """Per feature row: class index of the segment holding the row's centre, or -1 for background."""
    featured = info["feature_frame"] / info["duration_frame"] * info["duration_second"]
    centres = (np.arange(temporal_scale) + 0.5) / temporal_scale * featured
    labels = np.full(temporal_scale, -1)
    for ann in info["annotations"]:
        t0, t1 = ann["segment"]
        labels[(centres >= t0) & (centres < t1)] = classes.index(ann["label"])
    return labels


def test_same_seed_same_bytes_other_seed_other_features(tmp_path):
    a = generate_localization_features(tmp_path / "a", **ARGS)
    b = generate_localization_features(tmp_path / "b", **ARGS)
    assert _files(a.folder) == _files(b.folder)
    c = generate_localization_features(tmp_path / "a", **{**ARGS, "seed": 6})
    assert c.folder != a.folder
    assert (a.feature_dir / "v_synthetic_00000.csv").read_bytes() != (
        c.feature_dir / "v_synthetic_00000.csv"
    ).read_bytes()


def test_annotations_and_features_agree(tmp_path):
    data = generate_localization_features(tmp_path, **ARGS)
    full = json.loads(data.annotation_file("full").read_text())
    assert list(full) == data.video_ids["full"] and len(full) == ARGS["num_videos"]
    parts = [json.loads(data.annotation_file(s).read_text()) for s in ("train", "val", "test")]
    assert [len(p) for p in parts] == [18, 6, 6]
    assert {k: v for p in parts for k, v in p.items()} == full
    assert (data.folder / "classes.txt").read_text().split() == data.classes
    for vid, info in full.items():
        assert set(info) == {
            "duration_second",
            "duration_frame",
            "feature_frame",
            "fps",
            "rfps",
            "annotations",
        }
        assert info["feature_frame"] <= info["duration_frame"]
        assert abs(info["duration_frame"] - info["duration_second"] * info["fps"]) <= 0.5
        featured = info["feature_frame"] / info["duration_frame"] * info["duration_second"]
        previous_end = 0.0
        for ann in info["annotations"]:
            t0, t1 = ann["segment"]
            assert previous_end <= t0 < t1 <= featured, vid
            assert ann["label"] in data.classes
            previous_end = t1
        path = data.feature_dir / f"{vid}.csv"
        header = path.read_text().splitlines()[0]
        assert header == ",".join(f"f{i}" for i in range(ARGS["feat_dim"]))
        features = np.loadtxt(path, delimiter=",", skiprows=1)
        assert features.shape == (ARGS["temporal_scale"], ARGS["feat_dim"])
        assert np.isfinite(features).all()


def test_planted_segments_are_recoverable_row_by_row(tmp_path):
    data = generate_localization_features(tmp_path, **ARGS)
    classes = data.classes

    def rows(split):
        feats, labels = [], []
        for vid, info in json.loads(data.annotation_file(split).read_text()).items():
            feats.append(np.loadtxt(data.feature_dir / f"{vid}.csv", delimiter=",", skiprows=1))
            labels.append(_row_labels(info, classes, ARGS["temporal_scale"]))
        return np.concatenate(feats), np.concatenate(labels)

    x_train, y_train = rows("train")
    x_val, y_val = rows("val")
    assert (y_val >= 0).mean() > 0.15 and (y_val == -1).mean() > 0.15
    means = np.stack([x_train[y_train == k].mean(0) for k in range(-1, len(classes))])
    predicted = np.argmin(((x_val[:, None] - means[None]) ** 2).sum(-1), axis=1) - 1
    # Rows follow the annotation's segments, far above what shuffled labels give.
    accuracy = (predicted == y_val).mean()
    shuffled = np.random.default_rng(0).permutation(y_val)
    assert accuracy > 0.8 and accuracy > (predicted == shuffled).mean() + 0.3


def test_segment_boundaries_are_sharp(tmp_path):
    data = generate_localization_features(tmp_path, **{**ARGS, "num_videos": 60})
    classes = data.classes
    full = json.loads(data.annotation_file("full").read_text())
    feats = {v: np.loadtxt(data.feature_dir / f"{v}.csv", delimiter=",", skiprows=1) for v in full}
    labels = {v: _row_labels(info, classes, ARGS["temporal_scale"]) for v, info in full.items()}
    inside_mean = {
        k: np.concatenate([feats[v][labels[v] == k] for v in full]).mean(0) for k in range(len(classes))
    }
    # Project rows around each segment start onto the direction of its class: a step, not a ramp.
    profile = []
    for v in full:
        starts = np.flatnonzero((labels[v][1:] >= 0) & (labels[v][:-1] == -1)) + 1
        for s in starts[(starts >= 2) & (starts <= ARGS["temporal_scale"] - 2)]:
            direction = inside_mean[labels[v][s]]
            window = feats[v][s - 2 : s + 2] @ direction / (direction @ direction)
            profile.append(window)
    profile = np.mean(profile, axis=0)
    assert len(profile) == 4
    assert abs(profile[0] - profile[1]) < 0.15 and abs(profile[2] - profile[3]) < 0.15
    assert profile[2] - profile[1] > 0.7


def test_damaged_feature_set_is_repaired(tmp_path):
    data = generate_localization_features(tmp_path, **ARGS)
    original = _files(data.folder)
    (data.feature_dir / "v_synthetic_00003.csv").unlink()
    data.annotation_file("val").write_text("{}")
    again = generate_localization_features(tmp_path, **ARGS)
    assert _files(again.folder) == original


@pytest.mark.parametrize(
    "bad", [{"num_videos": 0}, {"temporal_scale": 5}, {"split_fractions": (0.5, 0.5, 0.5)}]
)
def test_bad_arguments_are_named(tmp_path, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        generate_localization_features(tmp_path, **{**ARGS, **bad})
