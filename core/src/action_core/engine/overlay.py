"""Write a copy of a video with predicted labels drawn on every frame (``action-run predict --out-video``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["write_overlay_video"]


def write_overlay_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    predictions: Sequence[tuple[str, float]],
    *,
    codec: str = "libx264",
    font_size: int = 0,
    min_side: int = 256,
) -> Path:
    """Re-encode ``src`` to ``dst`` with the ``(label, score)`` lines drawn in the top-left corner.

    Uses PyAV for decoding/encoding and Pillow for text; the frame rate and size are kept. ``font_size`` 0
    scales the text with the frame height. Videos whose shorter side is below ``min_side`` are upscaled
    (nearest neighbour) so the labels stay legible. The output is written to a temporary name and renamed
    when done.
    """
    import av
    from PIL import Image, ImageDraw, ImageFont

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp{dst.suffix}")
    lines = [f"{label}: {score:.3f}" for label, score in predictions]
    try:
        with av.open(str(src)) as source, av.open(str(tmp), mode="w") as sink:
            in_stream = source.streams.video[0]
            rate = in_stream.average_rate or 25
            out_stream = sink.add_stream(codec, rate=rate)
            width, height = in_stream.codec_context.width, in_stream.codec_context.height
            scale = max(1, -(-min_side // min(width, height)))
            out_stream.width = width * scale // 2 * 2
            out_stream.height = height * scale // 2 * 2
            out_stream.pix_fmt = "yuv420p"
            size = font_size or max(10, out_stream.height // 18)
            font = ImageFont.load_default(size=size)
            for frame in source.decode(in_stream):
                image = frame.to_image()
                if scale > 1:
                    image = image.resize((width * scale, height * scale), Image.NEAREST)
                image = image.crop((0, 0, out_stream.width, out_stream.height))
                draw = ImageDraw.Draw(image)
                for row, text in enumerate(lines):
                    xy = (size // 2, size // 2 + row * int(size * 1.3))
                    draw.text(
                        xy, text, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0)
                    )
                for packet in out_stream.encode(av.VideoFrame.from_image(image)):
                    sink.mux(packet)
            for packet in out_stream.encode():
                sink.mux(packet)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dst
