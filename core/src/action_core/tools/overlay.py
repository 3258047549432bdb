"""Write a video with the predicted labels drawn on every frame (``action-run predict --out-video``)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont


def draw_labels(frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 RGB with ``lines`` of text on a dark band at the top-left."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    size = max(10, min(image.width, image.height) // 14)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        font = ImageFont.load_default()
    y = 2
    for text in lines:
        left, top, right, bottom = draw.textbbox((4, y), text, font=font)
        draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=(0, 0, 0))
        draw.text((4, y), text, fill=(255, 255, 255), font=font)
        y = bottom + 3
    return np.asarray(image)


def write_labelled_video(
    frames: np.ndarray,
    predictions: Sequence[tuple[str, float]],
    path: str | Path,
    *,
    fps: float = 25.0,
) -> Path:
    """Encode ``frames`` (T, H, W, 3) uint8 RGB as H.264 MP4 with the top-k ``predictions`` drawn on."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be a (T, H, W, 3) uint8 array, got {frames.shape} {frames.dtype}")
    lines = [f"{name}: {score:.2f}" for name, score in predictions]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1] - frames.shape[1] % 2, frames.shape[2] - frames.shape[2] % 2
    tmp = out.with_name(out.name + ".part")
    with av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            image = draw_labels(np.ascontiguousarray(frame[:height, :width]), lines)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(out)
    return out
