"""Bad media raise VideoDecodeError naming the file and the cause; lying headers yield the true frames."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from action_core.video import MediaError, VideoDecodeError, VideoReader

from .conftest import patch_avi_frame_count, sequential_decode, write_video


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(VideoDecodeError, match="does not exist") as e:
        VideoReader(tmp_path / "nope.mp4")
    assert e.value.cause == "missing" and e.value.path.endswith("nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="empty") as e:
        VideoReader(empty)
    assert isinstance(e.value, MediaError) and e.value.cause == "empty"


def test_undecodable_file_chains_the_original(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(VideoDecodeError, match="junk.mp4") as e:
        VideoReader(junk)
    assert e.value.__cause__ is not None or e.value.cause == "no video stream"


@pytest.mark.parametrize(
    "name,kwargs",
    [("t.mp4", {}), ("t.avi", {"codec": "mpeg4"}), ("t.mkv", {})],
)
def test_truncated_files(tmp_path, name, kwargs):
    write_video(str(tmp_path / name), n=40, **kwargs)
    data = (tmp_path / name).read_bytes()
    cut = str(tmp_path / ("cut_" + name))
    (tmp_path / ("cut_" + name)).write_bytes(data[: int(len(data) * 0.6)])
    if name.endswith(".mkv"):
        # Matroska has no frame count or file size to check against: the frames that are there are
        # read, and they are the true ones.
        with VideoReader(cut) as r:
            ref = sequential_decode(cut)
            assert r.num_frames == len(ref) < 40
            assert np.array_equal(r.get_frames([r.num_frames - 1], layout="THWC")[0].numpy(), ref[-1])
        return
    with pytest.raises(VideoDecodeError, match="cut_") as e:
        VideoReader(cut)
    assert e.value.cause in ("truncated", "undecodable", "no video stream")


def test_index_out_of_range(videos):
    with VideoReader(videos["h264_gop30_mp4"]) as r:
        for bad in ([r.num_frames], [-1], [0, 10**6]):
            with pytest.raises(VideoDecodeError, match="out of range") as e:
                r.get_frames(bad)
            assert e.value.cause == "index out of range"
        with pytest.raises(TypeError):
            r.get_frames([0.5])


def test_closed_reader_refuses(videos):
    r = VideoReader(videos["h264_gop30_mp4"])
    r.close()
    with pytest.raises(VideoDecodeError, match="closed"):
        r.get_frames([0])


def test_avi_header_that_lies_about_its_frame_count(tmp_path):
    path = write_video(str(tmp_path / "liar.avi"), codec="mpeg4", n=30, gop=10, bframes=1)
    ref = sequential_decode(path)
    patch_avi_frame_count(path, 444)
    with VideoReader(path) as r:
        assert r.header_num_frames == 444
        assert r.num_frames == len(ref) == 30
        assert r.frame_count_source == "index, header wrong"
        out = r.get_frames(np.arange(30), layout="THWC").numpy()
        assert all(np.array_equal(out[i], ref[i]) for i in range(30))
        with pytest.raises(VideoDecodeError, match="out of range"):
            r.get_frames([100])


def test_stalled_decode_is_bounded(videos, tmp_path):
    """A zero time budget makes any read stop with an error instead of running on."""
    path = str(tmp_path / "v.mp4")
    shutil.copy(videos["h264_gop250_mp4"], path)
    r = VideoReader(path)
    r.timeout = 0.0
    with pytest.raises(VideoDecodeError, match="stalled") as e:
        r.get_frames([50])
    assert e.value.cause == "stalled"


@pytest.mark.parametrize("ext", ["mp4", "avi", "mkv"])
def test_metadata_that_is_not_utf8_does_not_stop_reading(tmp_path, ext):
    # A title written by old software in Latin-1: PyAV's strict metadata decoding raised a bare
    # UnicodeDecodeError on open, although every frame is intact.
    import av

    path = tmp_path / f"latin1.{ext}"
    with av.open(str(path), "w") as out:
        out.metadata["title"] = "MARKER"
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(6):
            image = np.full((32, 32, 3), 40 * i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    at = data.index(b"MARKER")
    path.write_bytes(data[:at] + "Ça va".encode("latin-1")[:6].ljust(6) + data[at + 6 :])
    with av.open(str(path), metadata_errors="ignore") as container:
        last = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)][-1]
    with VideoReader(path) as r:
        assert r.num_frames == 6
        assert np.array_equal(r.get_frames([5], layout="THWC")[0].numpy(), last)


def test_a_stream_no_decoder_knows_is_a_media_error(tmp_path):
    # Found by fuzzing: a damaged sample description left the stream without a codec, and the reader failed
    # with a bare AttributeError on the missing codec context.
    good = write_video(str(tmp_path / "good.mp4"), n=6)
    data = (tmp_path / "good.mp4").read_bytes()
    assert b"avc1" in data
    (tmp_path / "nocodec.mp4").write_bytes(data.replace(b"avc1", b"qqqq"))
    with pytest.raises(VideoDecodeError, match="no decoder") as e:
        VideoReader(tmp_path / "nocodec.mp4")
    assert e.value.cause == "undecodable" and e.value.path.endswith("nocodec.mp4")
    assert VideoReader(good).num_frames == 6
