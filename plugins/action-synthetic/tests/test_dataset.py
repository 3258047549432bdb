"""The registered ``synthetic_motion`` dataset builder, through action_core's data pipeline."""

from __future__ import annotations

import pytest
import torch

from action_synthetic.datasets import conformance_example, default_root, synthetic_motion

PIPELINE = [
    {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 4},
    {"type": "DecodeFrames"},
    {"type": "FormatShape", "input_format": "NCHW"},
]
ARGS = {"classes": ["move_up", "move_down", "appear"], "videos_per_class": 5, "size": 32, "num_frames": 8}


def test_builder_returns_video_dataset_with_label_map(tmp_path):
    from action_core.api import VideoDataset

    train = synthetic_motion("train", root=str(tmp_path), pipeline=PIPELINE, test_mode=False, **ARGS)
    test = synthetic_motion("test", root=str(tmp_path), pipeline=PIPELINE, test_mode=True, **ARGS)
    assert isinstance(train, VideoDataset)
    assert train.classes == ARGS["classes"] and test.classes == ARGS["classes"]
    assert train.multi_label is False
    assert (len(train), len(test)) == (9, 3)
    labels = []
    for i in range(len(train)):
        item = train[i]
        assert item["inputs"].shape == (1, 4, 3, 32, 32)
        assert item["label"].dtype == torch.int64 and item["label"].ndim == 0
        labels.append(int(item["label"]))
    assert sorted(labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    train_paths = {r.path for r in train.records}
    assert not train_paths & {r.path for r in test.records}
    assert all(r.num_frames == 8 for r in train.records)


def test_registered_under_its_name_and_passes_the_conformance_kit(tmp_path):
    import action_core as ac

    entry = ac.get_registry().get("dataset", "synthetic_motion")
    assert entry.plugin == "synthetic" and entry.target == "action_synthetic.datasets:synthetic_motion"
    dataset = ac.build("dataset", "synthetic_motion", **conformance_example(tmp_path))
    assert dataset.classes == ["move_left", "move_right"] and len(dataset) > 0
    testkit = pytest.importorskip("action_testkit")
    report = testkit.validate_plugin("synthetic")
    assert report.ok, str(report)


def test_unknown_split_and_class_are_reported(tmp_path):
    with pytest.raises(ValueError, match="'validation'.*train, val, test"):
        synthetic_motion("validation", root=str(tmp_path), pipeline=PIPELINE, test_mode=False, **ARGS)
    with pytest.raises(KeyError, match="'spin'"):
        synthetic_motion(
            "train", root=str(tmp_path), pipeline=PIPELINE, test_mode=False, classes=["spin", "appear"]
        )


def test_empty_root_uses_the_environment_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ACTION_SYNTHETIC_ROOT", str(tmp_path / "cache"))
    assert default_root() == tmp_path / "cache"
    dataset = synthetic_motion("val", root="", pipeline=PIPELINE, test_mode=True, **ARGS)
    assert all(r.path.startswith(str(tmp_path / "cache")) for r in dataset.records)
