"""``--views CLIPSxCROPS``: a 2D model's clips hold its trained segment count, a 3-crop view resizes the
shorter side to the input size first (MMAction2's test pipelines), and the frames match MMAction2's sampling."""

from __future__ import annotations

import numpy as np
import pytest

from action_core.data.multiview import apply_views, trained_segments
from action_core.data.samplers import SampleFrames
from action_core.errors import ConfigError

TSM_TEST = [
    {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 8, "test_mode": True},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 256]},
    {"type": "CenterCrop", "crop_size": 224},
    {"type": "FormatShape", "input_format": "NCHW"},
]
TSM_TRAIN = [
    {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": 8},
    {"type": "DecodeFrames"},
]


def test_a_segment_sampler_takes_clips_of_the_trained_segment_count() -> None:
    steps = apply_views(TSM_TEST, "10x3", segments=trained_segments(TSM_TRAIN))
    assert steps[0]["num_clips"] == 80 and steps[0]["num_views"] == 10
    # Resize(-1, 256) + ThreeCrop(224) cannot span the shorter side: resized to 224 first (MMAction2)
    assert steps[2:4] == [{"type": "Resize", "scale": [-1, 224]}, {"type": "ThreeCrop", "crop_size": 224}]
    one = apply_views(TSM_TEST, "1x1", segments=8)
    assert one[0]["num_clips"] == 8 and "num_views" not in one[0]
    assert one[2:4] == TSM_TEST[2:4]
    ten = apply_views(TSM_TEST, "2x10", segments=8)
    assert ten[3] == {"type": "TenCrop", "crop_size": 224} and ten[2] == TSM_TEST[2]


def test_a_pipeline_with_its_own_three_crop_keeps_it() -> None:
    own = [*TSM_TEST[:3], {"type": "ThreeCrop", "crop_size": 256}, TSM_TEST[4]]
    assert apply_views(own, "10x3", segments=8)[2:4] == own[2:4]
    # 1 crop of such a pipeline is the centre crop of the model's input size when the engine gives it
    assert apply_views(own, "1x1", segments=8, crop_size=224)[3] == {"type": "CenterCrop", "crop_size": 224}


def test_a_pipeline_without_a_resize_gets_one_before_three_crop() -> None:
    clip = [
        {"type": "SampleFrames", "clip_len": 16, "frame_interval": 4, "num_clips": 1, "test_mode": True},
        {"type": "DecodeFrames"},
        {"type": "CenterCrop", "crop_size": 112},
    ]
    steps = apply_views(clip, "4x3")
    assert steps[0]["num_clips"] == 4 and "num_views" not in steps[0]
    assert steps[1:] == [
        {"type": "DecodeFrames"},
        {"type": "Resize", "scale": [-1, 112]},
        {"type": "ThreeCrop", "crop_size": 112},
    ]
    with pytest.raises(ConfigError, match="no sampling step"):
        apply_views(clip[1:], "1x1")


def test_grouped_views_sample_mmaction2s_frames_for_clips_times_segments() -> None:
    # MMAction2 1.2.0's SampleFrames(clip_len=1, num_clips=C*S, test_mode=True) gives these frames; TSM
    # groups them into C views of S consecutive ones
    grouped = SampleFrames(clip_len=1, num_clips=80, test_mode=True, num_views=10)
    plain = SampleFrames(clip_len=1, num_clips=80, test_mode=True)
    a = grouped({"total_frames": 300, "start_index": 0})
    b = plain({"total_frames": 300, "start_index": 0})
    np.testing.assert_array_equal(a["frame_inds"], b["frame_inds"])
    np.testing.assert_array_equal(a["frame_inds"][:3], [1, 5, 9])  # (300 / 80) * i + 1.875, floored
    assert a["num_views"] == 10 and b["num_views"] == 1
    with pytest.raises(ValueError, match="do not split"):
        SampleFrames(clip_len=1, num_clips=80, test_mode=True, num_views=3)
