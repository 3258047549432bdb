"""Datasets on tiny real media: items, labels, frames, and the bad-media policy (with worker processes)."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import torch
from data_helpers import frame_index

from action_core.data import (
    RawframeDataset,
    RawframeRecord,
    VideoDataset,
    VideoRecord,
    build_dataloader,
)
from action_core.video import MediaError

TEST_2D = [
    {"type": "SampleFrames", "clip_len": 1, "num_clips": 3, "test_mode": True},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 32]},
    {"type": "CenterCrop", "crop_size": 32},
    {"type": "FormatShape", "input_format": "NCHW"},
]
TRAIN_3D = [
    {"type": "SampleFrames", "clip_len": 4, "frame_interval": 2, "num_clips": 1},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 36]},
    {"type": "RandomCrop", "size": 32},
    {"type": "Flip", "flip_ratio": 0.5},
    {"type": "Normalize", "mean": [127.5] * 3, "std": [64.0] * 3},
    {"type": "FormatShape", "input_format": "NCTHW"},
]


def test_video_dataset_item_has_the_sampled_frames(media) -> None:
    ds = VideoDataset([VideoRecord(str(media["v30"]), 4), VideoRecord(str(media["v12"]), None)], TEST_2D)
    item = ds[0]
    assert set(item) == {"inputs", "label", "index"}
    assert item["inputs"].shape == (1, 3, 3, 32, 32) and item["inputs"].dtype == torch.float32
    assert item["label"].dtype == torch.int64 and int(item["label"]) == 4 and item["index"] == 0
    assert [frame_index(f) for f in item["inputs"][0]] == [5, 15, 25]
    assert int(ds[1]["label"]) == -1


def test_video_dataset_3d_train(media) -> None:
    np.random.seed(0)
    ds = VideoDataset([VideoRecord(str(media["v30"]), 1)], TRAIN_3D)
    assert ds[0]["inputs"].shape == (1, 3, 4, 32, 32)


def test_multi_label_targets_are_multi_hot(media) -> None:
    ds = VideoDataset(
        [VideoRecord(str(media["v12"]), [1, 3]), VideoRecord(str(media["v12"]), 2)],
        TEST_2D,
        multi_label=True,
        num_classes=5,
    )
    assert ds[0]["label"].tolist() == [0, 1, 0, 1, 0] and ds[0]["label"].dtype == torch.float32
    assert ds[1]["label"].tolist() == [0, 0, 1, 0, 0]
    with pytest.raises(ValueError, match="num_classes"):
        VideoDataset([], TEST_2D, multi_label=True)


def test_rawframe_dataset_reads_numbered_frames(media, tmp_path) -> None:
    from data_helpers import make_frames

    ds = RawframeDataset([RawframeRecord(str(media["frames"]), 10, 2)], TEST_2D)
    item = ds[0]
    # 3 test segments of 10 frames: centres 1.67 -> 1, 5, 8 (files img_00002, img_00006, img_00009)
    assert [frame_index(f) for f in item["inputs"][0]] == [1, 5, 8]
    # with an offset, frame i of the clip is file start_index + offset + i
    long = make_frames(tmp_path / "long", 16)
    item = RawframeDataset([RawframeRecord(str(long), 6, 0, offset=10)], TEST_2D)[0]
    assert [frame_index(f) for f in item["inputs"][0]] == [11, 13, 15]


@pytest.mark.parametrize(
    ("name", "cause"),
    [("missing", "missing"), ("empty", "empty"), ("garbage", ""), ("truncated", "")],
)
def test_error_mode_names_file_and_cause(media, name: str, cause: str) -> None:
    ds = VideoDataset([VideoRecord(str(media[name]), 0)], TEST_2D, bad_media="error")
    with pytest.raises(MediaError) as info:
        ds[0]
    assert str(media[name]) in str(info.value)
    assert info.value.path == str(media[name]) and info.value.cause
    if cause:
        assert info.value.cause == cause


def test_too_short_rawframe_folder_is_bad_media(media) -> None:
    ds = RawframeDataset([RawframeRecord(str(media["frames"]), 25, 0)], TEST_2D)
    with pytest.raises(MediaError, match="img_00025"):
        ds[0]


def _mixed_records(media) -> list[VideoRecord]:
    kinds = ["v12", "missing", "v30", "empty", "v5", "garbage", "v12", "truncated"]
    return [VideoRecord(str(media[k]), i) for i, k in enumerate(kinds)]


def test_skip_mode_replaces_deterministically_and_reports(media, caplog) -> None:
    ds = VideoDataset(_mixed_records(media), TEST_2D, bad_media="skip")
    with caplog.at_level(logging.WARNING, logger="action_core.data"):
        items = [ds[i] for i in range(len(ds))]
    # a bad sample is replaced by the next readable one
    assert [it["index"] for it in items] == [0, 2, 2, 4, 4, 6, 6, 0]
    assert int(items[1]["label"]) == 2
    report = ds.bad_media_report()
    bad = {str(media[k]) for k in ("missing", "empty", "garbage", "truncated")}
    assert report.count == 4 and set(report.files) == bad
    assert "missing" in report.files[str(media["missing"])]
    assert str(media["garbage"]) in caplog.text
    assert ds.bad_media_report().count == 0  # reports are incremental
    assert ds.bad_media_report(since_last=False).count == 4


def test_skip_mode_counts_across_dataloader_workers(media) -> None:
    ds = VideoDataset(_mixed_records(media) * 2, TEST_2D, bad_media="skip")
    loader = build_dataloader(ds, batch_size=3, num_workers=2, shuffle=True, seed=1, persistent_workers=False)
    seen = []
    for batch in loader:
        assert batch["inputs"].shape[1:] == (1, 3, 3, 32, 32)
        seen += batch["index"].tolist()
    assert len(seen) == 16
    report = ds.bad_media_report()
    assert report.count == 8
    assert set(report.files) == {str(media[k]) for k in ("missing", "empty", "garbage", "truncated")}


def test_skip_mode_gives_up_when_nothing_is_readable(media) -> None:
    ds = VideoDataset([VideoRecord(str(media["missing"]), 0)] * 3, TEST_2D, bad_media="skip")
    with pytest.raises(MediaError, match="no readable sample"):
        ds[0]


def test_decode_options_reach_the_reader_opened_by_the_sampler(media) -> None:
    steps = [
        {"type": "SampleFrames", "clip_len": 2, "num_clips": 1, "test_mode": True},
        {"type": "DecodeFrames", "short_side": 24},
        {"type": "FormatShape", "input_format": "NCTHW"},
    ]
    item = VideoDataset([VideoRecord(str(media["v12"]), 0)], steps)[0]
    assert item["inputs"].shape == (1, 3, 2, 24, 32)


def test_list_dataset_builders(media, tmp_path) -> None:
    from action_core.data.builders import rawframe_list, slowfast_list, video_list

    root = media["v12"].parent
    (root / "train.txt").write_text("v12.mp4 1\nv30.mp4 0\n")
    (root / "classes.txt").write_text("walking\nrunning\n")
    ds = video_list("train", root=str(root), pipeline=TEST_2D, test_mode=True, classes="classes.txt")
    assert (
        len(ds) == 2 and ds.classes == ["walking", "running"] and ds.num_classes == 2 and not ds.multi_label
    )
    assert int(ds[0]["label"]) == 1
    (root / "val.csv").write_text("v30.mp4 1\n")
    assert len(slowfast_list("val", root=str(root), pipeline=TEST_2D, test_mode=True)) == 1
    (root / "frames.txt").write_text("frames 10 0\n")
    rf = rawframe_list("x", root=str(root), pipeline=TEST_2D, test_mode=True, ann_file="frames.txt")
    assert rf[0]["inputs"].shape == (1, 3, 3, 32, 32)
    (root / "bad.txt").write_text("v12.mp4 7\n")
    from action_core.data import AnnotationError

    with pytest.raises(AnnotationError, match="bad.txt:1"):
        video_list("bad", root=str(root), pipeline=TEST_2D, test_mode=True, classes=["a", "b"])


def test_list_builders_need_labels_to_train_and_rows_to_read(media, tmp_path) -> None:
    from action_core.data import AnnotationError
    from action_core.data.builders import rawframe_list, slowfast_list, video_list
    from action_core.datasets.building import build_from_list

    root = media["v12"].parent
    (root / "half.txt").write_text("v12.mp4 1\nv30.mp4\n")
    (root / "half_frames.txt").write_text("frames 10 0\nframes 10\n")
    (root / "half.csv").write_text("v12.mp4 1\nv30.mp4\n")
    (root / "nothing.txt").write_text("\n")
    builders = [
        lambda **kw: video_list("half", root=str(root), pipeline=TEST_2D, **kw),
        lambda **kw: rawframe_list("half_frames", root=str(root), pipeline=TEST_2D, **kw),
        lambda **kw: slowfast_list("half", root=str(root), pipeline=TEST_2D, **kw),
        lambda **kw: build_from_list(
            root / "half.txt", root=root, modality="video", pipeline=TEST_2D, classes=["a", "b"], **kw
        ),
    ]
    for build in builders:
        assert len(build(test_mode=True)) == 2  # an unlabelled test list is fine
        with pytest.raises(AnnotationError, match=r"half.*:2: row .* has no label"):
            build(test_mode=False)
        assert len(build(test_mode=False, labelled=False)) == 2
    with pytest.raises(AnnotationError, match=r"nothing.txt: the list has no rows"):
        video_list("nothing", root=str(root), pipeline=TEST_2D, test_mode=False)


def test_a_clip_smaller_than_the_crop_names_the_file_and_the_row(media, tmp_path) -> None:
    from action_core.data import SampleError, parse_video_list

    # The 64x48 clip, cropped to 56 without a resize: before, a bare "CenterCrop 56x56 exceeds the ..."
    # ValueError from deep inside the pipeline, with no file name.
    (tmp_path / "list.txt").write_text(f"{media['v12']} 0\n{media['v30']} 1\n")
    pipeline = [
        {"type": "SampleFrames", "clip_len": 1, "num_clips": 1, "test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "CenterCrop", "crop_size": 56},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
    ds = VideoDataset(parse_video_list(tmp_path / "list.txt"), pipeline, test_mode=True, bad_media="skip")
    assert ds[1]["inputs"].shape[-1] == 56
    with pytest.raises(SampleError, match=r"list.txt:1: .*v12.mp4.*CenterCrop 56x56 exceeds the 64x48 clip"):
        ds[0]  # not bad media: skipping would hide a pipeline that does not fit the data
    without_row = VideoDataset([VideoRecord(str(media["v12"]), 0)], pipeline, test_mode=True)
    with pytest.raises(SampleError, match=r"^.*v12.mp4'?: CenterCrop") as info:
        without_row[0]
    assert isinstance(info.value, ValueError) and isinstance(info.value.__cause__, ValueError)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@pytest.mark.parametrize("fmt", ["NCTHW", "NCHW"])
def test_normalize_on_device_equals_the_pipeline_normalize(media, fmt: str) -> None:
    """Deferred normalisation: uint8 items plus ``norm``, collated, then ``normalize_batch`` after the copy
    gives bit for bit what ``Normalize`` in the pipeline gives."""
    from action_core.data import normalize_batch
    from action_core.engine.inference import batch_inputs

    norm = {"type": "Normalize", "mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375]}
    fmt_step = {"type": "FormatShape", "input_format": fmt}
    steps = TRAIN_3D[:5] if fmt == "NCTHW" else [*TEST_2D[:4]]
    records = [VideoRecord(str(media["v30"]), 1), VideoRecord(str(media["v12"]), 0)]
    cpu = VideoDataset(records, [*steps, norm, fmt_step])
    deferred = VideoDataset(records, [*steps, {**norm, "on_device": True}, fmt_step])
    outs = []
    for ds in (cpu, deferred):
        _seed_all(3)
        outs.append(next(iter(build_dataloader(ds, batch_size=2, shuffle=False, num_workers=0))))
    assert outs[0]["inputs"].dtype == torch.float32 and "norm" not in outs[0]
    assert outs[1]["inputs"].dtype == torch.uint8 and outs[1]["norm"].shape[:2] == (2, 2)
    got = batch_inputs(outs[1], torch.device("cpu"))
    assert torch.equal(got, outs[0]["inputs"])
    _seed_all(4)
    item = deferred[0]
    _seed_all(4)
    assert torch.equal(normalize_batch(item["inputs"], item["norm"][None]), cpu[0]["inputs"])
    mixed = outs[1]["norm"].clone()
    mixed[1] *= 2  # the second sample normalised differently: refused, not silently wrong
    with pytest.raises(ValueError, match="different mean/std"):
        normalize_batch(outs[1]["inputs"], mixed)
