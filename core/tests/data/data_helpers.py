"""Tiny media made on the fly: H.264 clips whose frame i has brightness 16 + 8 i, and JPEG frame folders."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import torch
from torchvision.io import write_jpeg


def frame_value(i: int) -> int:
    """Brightness of frame ``i`` in the generated media (so a decoded frame says which one it is)."""
    return 16 + 8 * i


def frame_index(img: torch.Tensor) -> int:
    """Which generated frame ``img`` (C, H, W, any dtype) is, from the mean brightness of its lower half."""
    return round((float(img[..., img.shape[-2] // 2 :, :].float().mean()) - 16) / 8)


def make_video(path: Path, num_frames: int = 12, size: tuple[int, int] = (64, 48), fps: int = 10) -> Path:
    """Write an H.264 clip of ``num_frames`` flat frames of ``size`` = (w, h)."""
    w, h = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(num_frames):
            arr = np.full((h, w, 3), frame_value(i), dtype=np.uint8)
            arr[: h // 4, : w // 4, 0] = 255  # a red corner, so flips are visible
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_frames(folder: Path, num_frames: int = 10, size: tuple[int, int] = (40, 30), start: int = 1) -> Path:
    """Write ``img_00001.jpg`` ... with the same brightness code as the videos."""
    w, h = size
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(num_frames):
        img = torch.full((3, h, w), frame_value(i), dtype=torch.uint8)
        write_jpeg(img, str(folder / f"img_{start + i:05d}.jpg"), quality=95)
    return folder
