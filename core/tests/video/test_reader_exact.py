"""get_frames equals a full sequential decode, frame for frame and byte for byte, on many kinds of file."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from action_core.video import VideoReader
from action_core.video import reader as reader_module

from .conftest import VIDEO_KINDS

KINDS = sorted(VIDEO_KINDS)


def assert_frames(out: torch.Tensor, ref: list[np.ndarray], idx: np.ndarray) -> None:
    assert out.dtype == torch.uint8
    assert out.shape == (len(idx), *ref[0].shape)
    for row, i in enumerate(idx):
        assert np.array_equal(out[row].numpy(), ref[int(i)]), f"frame {i} (position {row}) differs"


@pytest.mark.parametrize("kind", KINDS)
def test_count_and_size_match_sequential_decode(kind, videos, references):
    ref = references[kind]
    with VideoReader(videos[kind]) as r:
        assert r.num_frames == len(ref)
        assert (r.height, r.width, 3) == ref[0].shape
        expected = "decoded" if kind == "h264_raw_no_pts" else "index"
        assert r.frame_count_source == expected
        assert r.fps > 0 and r.duration > 0
        times = r.frame_times
        assert times.shape == (len(ref),) and times[0] == 0 and np.all(np.diff(times) > 0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("cached", [True, False], ids=["packets-kept", "container-seeks"])
def test_random_index_sets_are_exact(kind, threads, cached, videos, references, monkeypatch):
    if not cached:  # the path files too large to keep in memory take: seek in the container
        monkeypatch.setattr(reader_module, "PACKET_CACHE_BYTES", 0)
    ref = references[kind]
    n = len(ref)
    rng = np.random.default_rng(zlib.crc32(f"{kind}{threads}{cached}".encode()))
    with VideoReader(videos[kind], num_threads=threads) as r:
        for _ in range(12):
            idx = rng.integers(0, n, size=int(rng.integers(1, 10)))  # unsorted, with duplicates
            assert_frames(r.get_frames(idx, layout="THWC"), ref, idx)
            assert r.last_stats.packets_fed_twice == 0
            assert r.last_stats.frames_returned == len(set(idx.tolist()))


@pytest.mark.parametrize("kind", KINDS)
def test_whole_video_reverse_and_edges(kind, videos, references):
    ref = references[kind]
    n = len(ref)
    with VideoReader(videos[kind]) as r:
        assert_frames(r.get_frames(np.arange(n), layout="THWC"), ref, np.arange(n))
        rev = np.arange(n)[::-1].copy()
        assert_frames(r.get_frames(rev, layout="THWC"), ref, rev)
        for idx in ([n - 1], [0], [n - 1, 0, n - 1], [n // 2, n // 2 + 1]):
            assert_frames(r.get_frames(idx, layout="THWC"), ref, np.array(idx))


def test_layouts_and_index_types(videos, references):
    ref = references["h264_gop30_mp4"]
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        idx = [5, 3, 40]
        tchw = r.get_frames(idx)
        thwc = r.get_frames(torch.tensor(idx), layout="THWC")
        assert tchw.shape == (3, 3, r.height, r.width)
        assert torch.equal(tchw.permute(0, 2, 3, 1), thwc)
        assert np.array_equal(thwc[2].numpy(), ref[40])
        assert r.get_frames([]).shape == (0, 3, r.height, r.width)
        with pytest.raises(ValueError, match="layout"):
            r.get_frames([0], layout="NCHW")


def test_short_side_downscale_matches_scaled_sequential_decode(videos):
    from .conftest import sequential_decode

    path = videos["h264_gop30_mp4"]  # 64x48
    with VideoReader(path, short_side=24) as r:
        assert (r.height, r.width) == (24, 32)
        assert (r.source_height, r.source_width) == (48, 64)
        ref = sequential_decode(path, width=32, height=24, interpolation="AREA")
        idx = np.array([70, 2, 33, 2])
        assert_frames(r.get_frames(idx, layout="THWC"), ref, idx)
    with VideoReader(path, short_side=100) as r:  # never upscales
        assert (r.height, r.width) == (48, 64)


def test_vfr_frame_times_follow_timestamps(videos):
    with VideoReader(videos["vfr_mp4"]) as r:
        gaps = np.diff(r.frame_times)
        assert gaps.min() < 0.03 and gaps.max() > 0.07  # irregular, as written (15..95 ms)


def test_sequential_calls_continue_without_seeking(videos, references):
    """Dense test-time clips in increasing order reuse the decoder position instead of seeking."""
    ref = references["h264_gop250_mp4"]
    with VideoReader(videos["h264_gop250_mp4"]) as r:
        seeks = []
        for start in range(0, 56, 8):
            idx = np.arange(start, start + 4)
            assert_frames(r.get_frames(idx, layout="THWC"), ref, idx)
            seeks.append(r.last_stats.seeks)
        assert sum(seeks[1:]) == 0


@pytest.mark.parametrize("kind", ["h264_gop30_mp4", "mpeg2_ps", "h264_mpegts", "mpeg4_avi"])
def test_container_seeking_path_is_exact(kind, videos, references, monkeypatch):
    monkeypatch.setattr(reader_module, "PACKET_CACHE_BYTES", 0)
    ref = references[kind]
    with VideoReader(videos[kind]) as r:
        assert r._packets is None
        idx = np.array([len(ref) - 1, 0, len(ref) // 2, 5, len(ref) - 2])
        assert_frames(r.get_frames(idx, layout="THWC"), ref, idx)
        frames, chosen = r.sample_segments(4, rng=np.random.default_rng(0), layout="THWC")
        assert_frames(frames, ref, chosen)
