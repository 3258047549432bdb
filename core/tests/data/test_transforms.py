"""Transforms: one set of random parameters per clip, shapes, MMAction2 sizes, view layout."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from action_core.data import (
    CenterCrop,
    ColorJitter,
    Flip,
    FormatShape,
    MultiScaleCrop,
    Normalize,
    RandomCrop,
    RandomResizedCrop,
    Resize,
    SampleFrames,
    TenCrop,
    ThreeCrop,
    build_pipeline,
)


def _clip(t: int = 6, h: int = 60, w: int = 80, seed: int = 0) -> torch.Tensor:
    """T copies of one random image: if every frame gets the same parameters, the frames stay equal."""
    g = torch.Generator().manual_seed(seed)
    frame = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
    return frame.expand(t, 3, h, w).clone()


RANDOM_STEPS = [
    RandomCrop(32),
    RandomResizedCrop(),
    MultiScaleCrop(40, scales=(1, 0.875, 0.75, 0.66), random_crop=True),
    MultiScaleCrop(40, scales=(1, 0.875, 0.75, 0.66), num_fixed_crops=13),
    Flip(flip_ratio=0.5),
    Flip(flip_ratio=0.5, direction="vertical"),
    ColorJitter(),
    Resize((48, 48), keep_ratio=False),
]


@pytest.mark.parametrize("step", RANDOM_STEPS, ids=repr)
def test_every_frame_gets_the_same_parameters(step) -> None:
    np.random.seed(0)
    random.seed(0)
    changed = 0
    for trial in range(12):
        imgs = _clip(seed=trial)
        out = step({"imgs": imgs, "img_shape": (60, 80), "label": 0, "modality": "RGB"})["imgs"]
        assert out.dtype == torch.uint8
        for f in out[1:]:
            assert torch.equal(f, out[0])
        changed += out.shape != imgs.shape or not torch.equal(out, imgs)
    assert changed > 0, "the transform never changed the clip"


def test_random_crops_differ_between_calls() -> None:
    np.random.seed(0)
    boxes = {tuple(RandomCrop(32)({"imgs": _clip()})["crop_bbox"]) for _ in range(20)}
    assert len(boxes) > 5


@pytest.mark.parametrize(
    ("hw", "scale", "keep_ratio", "expected"),
    [
        ((256, 340), (-1, 256), True, (256, 340)),
        ((240, 320), (-1, 256), True, (256, 341)),  # 320 * 256 / 240 = 341.33 -> int(x + 0.5) = 341
        ((360, 480), (-1, 256), True, (256, 341)),
        ((331, 227), (-1, 256), True, (373, 256)),  # 331 * 256 / 227 = 373.28
        ((100, 150), (-1, 128), True, (128, 192)),
        ((240, 320), (340, 256), True, (255, 340)),  # long edge limits: 340 / 320 * 240 = 255
        ((240, 320), (224, 224), False, (224, 224)),
        ((240, 320), (200, 100), False, (100, 200)),  # (w, h)
        ((240, 320), 0.5, True, (120, 160)),
    ],
)
def test_resize_sizes_follow_mmaction2(hw, scale, keep_ratio, expected) -> None:
    h, w = hw
    imgs = torch.zeros(2, 3, h, w, dtype=torch.uint8)
    out = Resize(scale, keep_ratio=keep_ratio)({"imgs": imgs})
    assert tuple(out["imgs"].shape[-2:]) == expected == tuple(out["img_shape"])


def test_resize_keeps_content_roughly() -> None:
    imgs = torch.zeros(1, 3, 40, 40, dtype=torch.uint8)
    imgs[..., :, 20:] = 200
    out = Resize((-1, 80))({"imgs": imgs})["imgs"]
    assert out[0, 0, 0, :30].float().mean() < 10 and out[0, 0, 0, 50:].float().mean() > 190


def test_center_three_and_ten_crop() -> None:
    imgs = torch.arange(2 * 3 * 6 * 10, dtype=torch.int32).to(torch.uint8).reshape(2, 3, 6, 10)
    out = CenterCrop(4)({"imgs": imgs})
    assert torch.equal(out["imgs"], imgs[..., 1:5, 3:7])

    three = ThreeCrop(6)({"imgs": imgs})
    assert three["imgs"].shape == (6, 3, 6, 6) and three["num_crops"] == 3
    assert torch.equal(three["imgs"][0:2], imgs[..., :, 0:6])  # left, for both frames
    assert torch.equal(three["imgs"][2:4], imgs[..., :, 4:10])  # right
    assert torch.equal(three["imgs"][4:6], imgs[..., :, 2:8])  # middle
    with pytest.raises(ValueError, match="shorter side"):
        ThreeCrop(4)({"imgs": imgs})

    ten = TenCrop(4)({"imgs": imgs})
    assert ten["imgs"].shape == (20, 3, 4, 4) and ten["num_crops"] == 10
    assert torch.equal(ten["imgs"][0:2], imgs[..., 0:4, 0:4])
    assert torch.equal(ten["imgs"][2:4], imgs[..., 0:4, 0:4].flip(-1))
    # crops in MMAction2's order: each corner then its flip; centre at x = 2 * ((10 - 4) // 4), y = 0
    assert torch.equal(ten["imgs"][16:18], imgs[..., 0:4, 2:6])
    assert torch.equal(ten["imgs"][18:20], imgs[..., 0:4, 2:6].flip(-1))


def test_flip_label_map_swaps_direction_classes() -> None:
    step = Flip(flip_ratio=1.0, flip_label_map={"86": 87, "87": 86})
    assert step({"imgs": _clip(), "label": 86})["label"] == 87
    assert step({"imgs": _clip(), "label": 5})["label"] == 5
    assert Flip(flip_ratio=0.0, flip_label_map={86: 87})({"imgs": _clip(), "label": 86})["label"] == 86


def test_flip_inverts_flow_x() -> None:
    flow = torch.zeros(2, 2, 4, 4, dtype=torch.uint8)
    flow[:, 0] = 100
    flow[:, 1] = 50
    out = Flip(flip_ratio=1.0)({"imgs": flow, "modality": "Flow"})["imgs"]
    assert int(out[0, 0, 0, 0]) == 155 and int(out[0, 1, 0, 0]) == 50


def test_normalize_uses_0_255_statistics() -> None:
    imgs = torch.full((2, 3, 4, 4), 128, dtype=torch.uint8)
    out = Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])({"imgs": imgs})["imgs"]
    assert out.dtype == torch.float32
    assert out[0, :, 0, 0].tolist() == pytest.approx(
        [(128 - 123.675) / 58.395, (128 - 116.28) / 57.12, (128 - 103.53) / 57.375]
    )
    # the decoder hands out channels-last views; crops of them too: same values, contiguous float output
    frames = torch.randint(0, 256, (3, 10, 12, 3), dtype=torch.uint8)
    for view in (frames.permute(0, 3, 1, 2)[..., 2:8, 1:9], frames.permute(0, 3, 1, 2).flip(-1)):
        got = Normalize(mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 8.0])({"imgs": view})["imgs"]
        ref = (view.float() - torch.tensor([10.0, 20.0, 30.0]).view(3, 1, 1)) / torch.tensor(
            [2.0, 4.0, 8.0]
        ).view(3, 1, 1)
        assert got.is_contiguous() and torch.allclose(got, ref, atol=1e-5)
    with pytest.raises(ValueError, match="channel"):
        Normalize(mean=[0.0], std=[1.0])({"imgs": imgs})


def test_format_shape_2d_views_with_twice_sample_and_three_crop() -> None:
    results = SampleFrames(clip_len=1, num_clips=4, test_mode=True, twice_sample=True)({"total_frames": 40})
    t = len(results["frame_inds"])
    # frame k of the clip has value k, so we can follow it through the layout
    results["imgs"] = torch.arange(t, dtype=torch.uint8).view(t, 1, 1, 1).expand(t, 3, 6, 8).contiguous()
    results = ThreeCrop(6)(results)
    out = FormatShape("NCHW")(results)["imgs"]
    assert out.shape == (6, 4, 3, 6, 6)  # V = 2 temporal views x 3 crops, T = 4 segments
    assert out[:, :, 0, 0, 0].tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] * 3


def test_format_shape_3d() -> None:
    results = SampleFrames(clip_len=4, frame_interval=2, num_clips=3, test_mode=True)({"total_frames": 40})
    m = len(results["frame_inds"])
    results["imgs"] = torch.arange(m, dtype=torch.uint8).view(m, 1, 1, 1).expand(m, 3, 5, 5).contiguous()
    out = FormatShape("NCTHW")(results)["imgs"]
    assert out.shape == (3, 3, 4, 5, 5) and out.dtype == torch.float32
    assert out[1, 2, :, 0, 0].tolist() == [4, 5, 6, 7]


def test_pipeline_train_shapes_2d_and_3d() -> None:
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    steps_2d = [
        {"type": "Resize", "scale": [-1, 64]},
        {"type": "MultiScaleCrop", "input_size": 56, "scales": [1, 0.875, 0.75, 0.66]},
        {"type": "Resize", "scale": [56, 56], "keep_ratio": False},
        {"type": "Flip", "flip_ratio": 0.5},
        {"type": "Normalize", "mean": mean, "std": std},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
    pipe = build_pipeline(steps_2d)
    res = SampleFrames(clip_len=1, num_clips=8)({"total_frames": 50})
    res["imgs"] = torch.randint(0, 255, (8, 3, 60, 80), dtype=torch.uint8)
    assert pipe(res)["imgs"].shape == (1, 8, 3, 56, 56)

    steps_3d = [
        {"type": "Resize", "scale": [-1, 64]},
        {"type": "RandomResizedCrop"},
        {"type": "Resize", "scale": [56, 56], "keep_ratio": False},
        {"type": "Normalize", "mean": mean, "std": std},
        {"type": "FormatShape", "input_format": "NCTHW"},
    ]
    res = SampleFrames(clip_len=8, frame_interval=2)({"total_frames": 50})
    res["imgs"] = torch.randint(0, 255, (8, 3, 60, 80), dtype=torch.uint8)
    assert build_pipeline(steps_3d)(res)["imgs"].shape == (1, 3, 8, 56, 56)
