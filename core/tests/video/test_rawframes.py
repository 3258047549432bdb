"""RawframeReader: JPEG frame folders (RGB and flow x/y pairs) with the VideoReader surface."""

from __future__ import annotations

import pytest
import torch
from torchvision.io import decode_jpeg, encode_jpeg

from action_core.video import RawframeReader, VideoDecodeError

from .conftest import pattern


def write_jpegs(folder, names_and_images):
    folder.mkdir(parents=True, exist_ok=True)
    for name, img in names_and_images:
        (folder / name).write_bytes(bytes(encode_jpeg(img).numpy()))


@pytest.fixture
def rgb_dir(tmp_path):
    imgs = [torch.from_numpy(pattern(i, 24, 32)).permute(2, 0, 1).contiguous() for i in range(10)]
    write_jpegs(tmp_path / "rgb", [(f"img_{i + 1:05d}.jpg", im) for i, im in enumerate(imgs)])
    return tmp_path / "rgb"


def test_rgb_frames_match_direct_jpeg_decode(rgb_dir):
    with RawframeReader(rgb_dir) as r:
        assert r.num_frames == 10 and r.frame_count_source == "counted"
        assert (r.height, r.width) == (24, 32)
        idx = [9, 0, 4, 4]
        out = r.get_frames(idx)
        assert out.shape == (4, 3, 24, 32) and out.dtype == torch.uint8
        for row, i in enumerate(idx):
            expected = decode_jpeg(
                torch.frombuffer(
                    bytearray((rgb_dir / f"img_{i + 1:05d}.jpg").read_bytes()), dtype=torch.uint8
                )
            )
            assert torch.equal(out[row], expected)
        assert r.get_frames(idx, layout="THWC").shape == (4, 24, 32, 3)
        assert r.last_stats.frames_decoded == 3


def test_template_and_start_index(tmp_path):
    img = torch.from_numpy(pattern(0, 16, 16)).permute(2, 0, 1).contiguous()
    write_jpegs(tmp_path / "f", [(f"frame{i:03d}.jpg", img) for i in range(0, 5)])
    with RawframeReader(tmp_path / "f", template="frame{:03d}.jpg", start_index=0) as r:
        assert r.num_frames == 5
        r.get_frames([4])


def test_flow_pairs_have_two_channels(tmp_path):
    gray = [torch.full((1, 16, 20), 10 * i, dtype=torch.uint8) for i in range(6)]
    names = [
        (f"{axis}_{i + 1:05d}.jpg", gray[i] if axis == "x" else 255 - gray[i])
        for i in range(6)
        for axis in "xy"
    ]
    write_jpegs(tmp_path / "flow", names)
    with RawframeReader(tmp_path / "flow", modality="Flow") as r:
        assert r.num_frames == 6
        out = r.get_frames([2, 5])
        assert out.shape == (2, 2, 16, 20)
        assert abs(int(out[0, 0].float().mean()) - 20) <= 2 and abs(int(out[0, 1].float().mean()) - 235) <= 2


def test_short_side_and_declared_count(rgb_dir):
    with RawframeReader(rgb_dir, short_side=12, num_frames=10) as r:
        assert (r.height, r.width) == (12, 16)
        assert r.get_frames([1]).shape == (1, 3, 12, 16)
    with pytest.raises(VideoDecodeError, match="missing"):
        RawframeReader(rgb_dir, num_frames=11)


def test_errors(tmp_path, rgb_dir):
    with pytest.raises(VideoDecodeError, match="does not exist"):
        RawframeReader(tmp_path / "none")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(VideoDecodeError, match="no frame"):
        RawframeReader(tmp_path / "emptydir")
    (rgb_dir / "img_00004.jpg").write_bytes(b"not a jpeg")
    with RawframeReader(rgb_dir) as r:
        with pytest.raises(VideoDecodeError, match="img_00004.jpg") as e:
            r.get_frames([3])
        assert e.value.__cause__ is not None
        with pytest.raises(VideoDecodeError, match="out of range"):
            r.get_frames([10])
    (rgb_dir / "img_00002.jpg").write_bytes(b"")
    with RawframeReader(rgb_dir) as r, pytest.raises(VideoDecodeError, match="empty"):
        r.get_frames([1])
