"""Work done per call is bounded: entry at the keyframe before a stretch, no packet decoded twice."""

from __future__ import annotations

import numpy as np
import pytest

from action_core.video import VideoReader


def entry_and_target_ordinals(r: VideoReader, d: int) -> tuple[int, int]:
    ix = r._index
    return int(ix.start_key[d]), int(ix.packet_of_display[d])


@pytest.mark.parametrize("kind", ["h264_gop30_mp4", "mpeg4_avi", "mpeg2_ps", "h264_gop7_mkv"])
def test_single_frame_decodes_only_from_its_keyframe(kind, videos):
    with VideoReader(videos[kind]) as r:
        for d in [r.num_frames - 1, r.num_frames // 2, 3]:
            r.get_frames([d])
            key, target = entry_and_target_ordinals(r, d)
            s = r.last_stats
            assert min(s.fed) >= key, "decoded a packet before the entry keyframe"
            # Reordering delay: at most a few packets past the target are needed to output it.
            assert s.packets_fed <= target - key + 1 + 4
            assert s.frames_decoded <= s.packets_fed


def test_skips_non_reference_frames_it_does_not_return(videos):
    with VideoReader(videos["h264_gop250_mp4"]) as r:
        r.get_frames([r.num_frames - 1])
        s = r.last_stats
        assert s.packets_fed == r.num_frames  # one GOP: everything must be fed ...
        assert s.frames_decoded < 0.8 * r.num_frames  # ... but B-frames nobody references are skipped


def test_clip_never_decodes_before_its_keyframe_nor_twice(videos):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        idx = np.arange(40, 72, 2)
        r.get_frames(idx)
        key, _ = entry_and_target_ordinals(r, 40)
        s = r.last_stats
        assert min(s.fed) >= key
        assert s.packets_fed_twice == 0
        assert s.seeks <= 1


def test_far_apart_targets_seek_instead_of_decoding_through(videos):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        r.get_frames([1, 70])
        s = r.last_stats
        assert s.seeks >= 1
        assert s.packets_fed < 40  # not the 70+ of a decode from the start


def test_keyframe_indices(videos):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        keys = r.keyframe_indices
        assert keys[0] == 0 and np.all(np.diff(keys) > 0) and keys[-1] < r.num_frames
        for k in keys[1:]:
            r.get_frames([int(k)])
            assert r.last_stats.frames_decoded <= 4  # the keyframe itself, at most a reorder delay more
