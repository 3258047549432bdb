"""Tiny real videos for examples and tests (PyAV-encoded, a few frames, a few dozen pixels)."""

from __future__ import annotations

import os

_CODECS = {".mp4": "libx264", ".mkv": "libx264", ".avi": "mpeg4", ".webm": "libvpx", ".mov": "libx264"}


def write_video(
    path: str | os.PathLike[str],
    *,
    num_frames: int = 8,
    width: int = 32,
    height: int = 24,
    fps: int = 25,
    seed: int = 0,
) -> str:
    """Write a small video whose frames differ (a moving gradient), codec chosen by the extension."""
    import av
    import numpy as np

    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    codec = _CODECS.get(os.path.splitext(path)[1].lower(), "libx264")
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(path, "w") as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        for t in range(num_frames):
            base = (xs * 7 + ys * 3 + t * 11 + seed * 29) % 256
            img = np.stack([base, (base + 85) % 256, (255 - base)], axis=-1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_frames(
    folder: str | os.PathLike[str],
    *,
    num_frames: int = 8,
    width: int = 32,
    height: int = 24,
    template: str = "img_{:05d}.jpg",
    start_index: int = 1,
    seed: int = 0,
) -> str:
    """Write a folder of JPEG frames named ``template.format(start_index + k)``."""
    import torch
    from torchvision.io import write_jpeg

    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    for k in range(num_frames):
        img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8, generator=g)
        write_jpeg(img, os.path.join(folder, template.format(start_index + k)))
    return folder


def tiny_pipeline(num_clips: int = 2) -> list[dict]:
    """A cheap pipeline for examples and tests: ``num_clips`` single frames, decoded, formatted as NCHW."""
    return [
        {"type": "SampleFrames", "clip_len": 1, "frame_interval": 1, "num_clips": num_clips},
        {"type": "DecodeFrames"},
        {"type": "Normalize", "mean": [128.0, 128.0, 128.0], "std": [64.0, 64.0, 64.0]},
        {"type": "FormatShape", "input_format": "NCHW"},
    ]
