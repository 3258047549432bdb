"""Fast training mode: one reference frame per segment, exact bytes at the returned indices."""

from __future__ import annotations

import numpy as np
import pytest

from action_core.video import VideoReader

KINDS = [
    "h264_gop250_mp4",
    "h264_gop30_mp4",
    "h264_open_gop_mkv",
    "mpeg4_avi",
    "mpeg2_ps",
    "vfr_mp4",
    "h264_raw_no_pts",
]


@pytest.mark.parametrize("kind", KINDS)
def test_segments_return_exact_frames_inside_each_segment(kind, videos, references):
    ref = references[kind]
    rng = np.random.default_rng(0)
    with VideoReader(videos[kind]) as r:
        for num_segments in (3, 8):
            frames, idx = r.sample_segments(num_segments, rng=rng, layout="THWC")
            edges = (np.arange(num_segments + 1) * r.num_frames) // num_segments
            assert frames.shape == (num_segments, *ref[0].shape)
            assert np.all(idx >= edges[:-1]) and np.all(idx < edges[1:])
            for row, i in enumerate(idx):
                assert np.array_equal(frames[row].numpy(), ref[int(i)])
            assert r.last_stats.packets_fed_twice == 0


def test_fast_mode_decodes_no_more_than_exact(videos):
    rng = np.random.default_rng(1)
    with VideoReader(videos["h264_gop250_mp4"]) as r:
        _, idx = r.sample_segments(4, rng=rng)
        fast = r.last_stats.frames_decoded
        r.get_frames(np.arange(r.num_frames))
        assert fast < r.last_stats.frames_decoded
        assert r.last_stats.frames_decoded == r.num_frames


def test_fast_mode_spreads_over_the_segment(videos):
    """Not always the same frame: the choice still varies inside each segment."""
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        rng = np.random.default_rng(2)
        picks = {tuple(r.read_segments([(0, 20), (40, 60)], rng=rng)[1].tolist()) for _ in range(12)}
        assert len({p[0] for p in picks}) >= 3 and len({p[1] for p in picks}) >= 3


def test_short_video_repeats_frames(videos, references):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        frames, idx = r.sample_segments(r.num_frames + 5, rng=np.random.default_rng(0))
        assert frames.shape[0] == r.num_frames + 5 and idx.max() < r.num_frames


def test_bad_segments_are_refused(videos):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        with pytest.raises(ValueError, match="sorted"):
            r.read_segments([(10, 20), (5, 8)])
        with pytest.raises(Exception, match="out"):
            r.read_segments([(0, r.num_frames + 1)])
