"""Sampler behaviour beyond MMAction2 parity: edge cases, views, media opening."""

from __future__ import annotations

import numpy as np
import pytest

from action_core.data import (
    DenseSampleFrames,
    SampleFrames,
    SegmentSampleFrames,
    UniformSample,
    UniformSampleFrames,
)
from action_core.video import MediaError


def _run(sampler, total: int, start_index: int = 0, **extra) -> dict:
    return sampler({"total_frames": total, "start_index": start_index, **extra})


def test_tsn_training_takes_one_frame_per_segment() -> None:
    np.random.seed(3)
    for _ in range(20):
        inds = _run(SampleFrames(clip_len=1, num_clips=8), 80)["frame_inds"]
        assert [i // 10 for i in inds] == list(range(8))


def test_segment_sampler_is_sample_frames_with_clip_len_1() -> None:
    np.random.seed(1)
    a = _run(SegmentSampleFrames(num_segments=5), 53)["frame_inds"]
    np.random.seed(1)
    b = _run(SampleFrames(clip_len=1, num_clips=5), 53)["frame_inds"]
    assert a.tolist() == b.tolist()


def test_test_mode_ignores_random_state_and_takes_segment_centres() -> None:
    s = SampleFrames(clip_len=1, num_clips=4, test_mode=True)
    np.random.seed(0)
    a = _run(s, 40)["frame_inds"]
    np.random.seed(99)
    b = _run(s, 40)["frame_inds"]
    assert a.tolist() == b.tolist() == [5, 15, 25, 35]


@pytest.mark.parametrize("total", [1, 2, 5, 7])
def test_short_video_loops_or_repeats_last(total: int) -> None:
    np.random.seed(0)
    looped = _run(SampleFrames(clip_len=8, frame_interval=1, num_clips=1, test_mode=True), total)[
        "frame_inds"
    ]
    assert looped.tolist() == [i % total for i in range(8)]
    last = _run(SampleFrames(clip_len=8, num_clips=1, test_mode=True, out_of_bound_opt="repeat_last"), total)[
        "frame_inds"
    ]
    assert last.tolist() == [min(i, total - 1) for i in range(8)]


def test_every_index_is_inside_the_video() -> None:
    rng = np.random.default_rng(0)
    samplers = [
        SampleFrames(32, 2, 1),
        SampleFrames(8, 8, 3, out_of_bound_opt="repeat_last"),
        SampleFrames(1, 1, 8, test_mode=True, twice_sample=True),
        DenseSampleFrames(8, 8, 1),
        UniformSample(8),
        UniformSampleFrames(16, 2),
    ]
    for total in rng.integers(1, 400, size=30).tolist():
        for s in samplers:
            inds = _run(s, total, start_index=1)["frame_inds"]
            assert inds.min() >= 1 and inds.max() <= total, (s, total)


def test_views_2d_and_3d() -> None:
    twice = _run(SampleFrames(clip_len=1, num_clips=8, test_mode=True, twice_sample=True), 100)
    assert (len(twice["frame_inds"]), twice["num_views"]) == (16, 2)
    clips3d = _run(SampleFrames(clip_len=16, frame_interval=2, num_clips=10, test_mode=True), 300)
    assert (clips3d["num_clips"], clips3d["num_views"], len(clips3d["frame_inds"])) == (10, 10, 160)
    train = _run(SampleFrames(clip_len=1, num_clips=8), 100)
    assert train["num_views"] == 1
    dense = _run(
        DenseSampleFrames(clip_len=1, num_clips=8, sample_range=32, num_sample_positions=3, test_mode=True),
        200,
    )
    assert (dense["num_views"], len(dense["frame_inds"])) == (3, 24)


def test_3d_twice_sample_with_one_clip_does_not_divide_by_zero() -> None:
    out = _run(SampleFrames(clip_len=4, num_clips=1, test_mode=True, twice_sample=True), 20)
    assert out["frame_inds"].tolist() == [0, 1, 2, 3, 16, 17, 18, 19]


def test_uniform_sample_frames_test_mode_is_reproducible_and_leaves_global_rng() -> None:
    s = UniformSampleFrames(clip_len=8, num_clips=2, test_mode=True)
    np.random.seed(5)
    a = _run(s, 50)["frame_inds"]
    after = np.random.random()
    np.random.seed(5)
    assert np.random.random() == after
    b = _run(s, 50)["frame_inds"]
    assert a.tolist() == b.tolist()


def test_zero_frames_is_a_media_error() -> None:
    with pytest.raises(MediaError, match="no frames"):
        SampleFrames(1, num_clips=3)({"total_frames": 0, "filename": "x.mp4"})


@pytest.mark.parametrize(
    "kwargs", [{"clip_len": 0}, {"clip_len": 1, "num_clips": 0}, {"clip_len": 2, "out_of_bound_opt": "wrap"}]
)
def test_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        SampleFrames(**kwargs)


def test_sampler_opens_the_video_to_count_frames(media) -> None:
    results = {"filename": str(media["v30"])}
    out = SampleFrames(clip_len=1, num_clips=3, test_mode=True)(results)
    assert out["total_frames"] == 30 and out["avg_fps"] == pytest.approx(10.0)
    assert out["frame_inds"].tolist() == [5, 15, 25]
    out["reader"].close()


def test_segment_start_end_restricts_sampling(media) -> None:
    from action_core.data import DecodeFrames

    results = {"filename": str(media["v30"]), "start_time": 1.0, "end_time": 2.0}
    out = SampleFrames(clip_len=10, num_clips=1, test_mode=True)(results)
    assert out["total_frames"] == 10 and out["frame_offset"] == 10
    out = DecodeFrames()(out)
    from data_helpers import frame_index

    assert [frame_index(f) for f in out["imgs"]] == list(range(10, 20))


def test_fast_segment_mode_returns_exact_frames_inside_each_segment(media) -> None:
    from data_helpers import frame_index

    from action_core.data import DecodeFrames, build_pipeline

    pipe = build_pipeline(
        [{"type": "SampleFrames", "clip_len": 1, "num_clips": 5, "fast": True}, DecodeFrames()]
    )
    np.random.seed(4)
    out = pipe({"filename": str(media["v30"])})
    inds = out["frame_inds"].tolist()
    assert [i // 6 for i in inds] == list(range(5))  # one frame from each 6-frame segment
    assert [frame_index(f) for f in out["imgs"]] == inds  # and it is exactly that frame
    np.random.seed(4)
    assert pipe({"filename": str(media["v30"])})["frame_inds"].tolist() == inds  # reproducible
    # test mode and short videos use the ordinary sampling
    test = SampleFrames(clip_len=1, num_clips=5, test_mode=True, fast=True)({"total_frames": 30})
    assert "segment_bounds" not in test and test["frame_inds"].tolist() == [3, 9, 15, 21, 27]
    short = SampleFrames(clip_len=1, num_clips=8, fast=True)({"total_frames": 5})
    assert "segment_bounds" not in short and len(short["frame_inds"]) == 8


def test_fast_segment_mode_on_frame_folders(media) -> None:
    from data_helpers import frame_index

    from action_core.data import DecodeFrames, build_pipeline

    pipe = build_pipeline(
        [{"type": "SampleFrames", "clip_len": 1, "num_clips": 5, "fast": True}, DecodeFrames()]
    )
    out = pipe({"frame_dir": str(media["frames"]), "total_frames": 10, "start_index": 1})
    inds = out["frame_inds"].tolist()
    assert [(i - 1) // 2 for i in inds] == list(range(5))
    assert [frame_index(f) + 1 for f in out["imgs"]] == inds
