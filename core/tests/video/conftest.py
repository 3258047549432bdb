"""Tiny videos made with PyAV for the reader tests (milliseconds each), and the reference decode."""

from __future__ import annotations

import fractions
import os
from collections.abc import Callable

import av
import numpy as np
import pytest


def pattern(i: int, h: int, w: int) -> np.ndarray:
    """Frame ``i``: different in every frame (so a wrong frame cannot pass), with texture for the encoder."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (i * 37) % 256
    img[..., 1] = (np.arange(w)[None, :] * 5 + i * 3) % 256
    img[..., 2] = (np.arange(h)[:, None] * 7) % 256
    img[(i * 3) % h, :, :] = 255
    img[:, (i * 5) % w, 1] = 0
    return img


def write_video(
    path: str,
    *,
    codec: str = "libx264",
    fmt: str | None = None,
    n: int = 40,
    size: tuple[int, int] = (48, 64),
    rate: int = 25,
    gop: int = 12,
    bframes: int | None = 2,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    pts: list[int] | None = None,
    time_base: fractions.Fraction | None = None,
) -> str:
    """Encode ``n`` pattern frames. ``pts`` (with ``time_base``) gives explicit, e.g. irregular, timestamps."""
    h, w = size
    with av.open(path, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        stream.codec_context.gop_size = gop
        if bframes is not None:
            stream.codec_context.max_b_frames = bframes
        if time_base is not None:
            stream.codec_context.time_base = time_base
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(i, h, w), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def sequential_decode(path: str, **reformat: object) -> list[np.ndarray]:
    """The reference: every frame of a plain full decode, converted to RGB."""
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24", **reformat) for f in c.decode(video=0)]


VIDEO_KINDS: dict[str, Callable[[str], str]] = {
    # x264 with B-frames (b-pyramid) and a long GOP, as x264 defaults make them (keyint 250).
    "h264_gop250_mp4": lambda d: write_video(
        os.path.join(d, "gop250.mp4"),
        n=60,
        gop=250,
        bframes=None,
        options={"x264-params": "keyint=250:scenecut=0"},
    ),
    "h264_gop30_mp4": lambda d: write_video(
        os.path.join(d, "gop30.mp4"), n=75, gop=30, bframes=None, options={"keyint": "30", "bframes": "3"}
    ),
    "h264_gop7_mkv": lambda d: write_video(os.path.join(d, "gop7.mkv"), n=45, gop=7, bframes=3),
    "mpeg4_avi": lambda d: write_video(os.path.join(d, "part2.avi"), codec="mpeg4", n=50, gop=12, bframes=2),
    "mpeg2_ps": lambda d: write_video(
        os.path.join(d, "mpeg2.mpg"), codec="mpeg2video", fmt="mpeg", n=50, bframes=2
    ),
    "vfr_mp4": lambda d: write_video(
        os.path.join(d, "vfr.mp4"),
        n=40,
        gop=9,
        pts=list(np.cumsum(np.random.default_rng(1).integers(15, 95, 40)) - 15 + 1000),
        time_base=fractions.Fraction(1, 1000),
    ),
    # Open GOPs: pictures after a keyframe in decode order that show before it need the GOP before.
    "h264_open_gop_mkv": lambda d: write_video(
        os.path.join(d, "open_gop.mkv"),
        n=50,
        bframes=None,
        options={"x264-params": "open-gop=1:keyint=10:bframes=3"},
    ),
    # MPEG-TS seeks by bytes; the reader reopens and demuxes forward instead.
    "h264_mpegts": lambda d: write_video(os.path.join(d, "ts.ts"), fmt="mpegts", n=40, gop=10, bframes=2),
    # A raw elementary stream: packets carry no timestamps at all.
    "h264_raw_no_pts": lambda d: write_video(
        os.path.join(d, "raw.h264"), fmt="h264", n=30, gop=10, bframes=2
    ),
    "odd_size_mp4": lambda d: write_video(
        os.path.join(d, "odd.mp4"), n=30, size=(23, 37), gop=10, pix_fmt="yuv444p"
    ),
    "odd_size_mpeg4_avi": lambda d: write_video(
        os.path.join(d, "odd.avi"), codec="mpeg4", n=30, size=(26, 38), gop=10, bframes=1
    ),
}


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="session")
def videos(video_dir: str) -> dict[str, str]:
    return {name: make(video_dir) for name, make in VIDEO_KINDS.items()}


@pytest.fixture(scope="session")
def references(videos: dict[str, str]) -> dict[str, list[np.ndarray]]:
    return {name: sequential_decode(path) for name, path in videos.items()}


def patch_avi_frame_count(path: str, claimed: int) -> None:
    """Make an AVI's headers lie: set the main header's total frames and the video stream's length."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    avih = data.index(b"avih") + 8
    data[avih + 16 : avih + 20] = claimed.to_bytes(4, "little")
    strh = data.index(b"strh") + 8
    data[strh + 32 : strh + 36] = claimed.to_bytes(4, "little")
    with open(path, "wb") as f:
        f.write(bytes(data))
