"""Re-encode a video to a training-friendly form: H.264, a short GOP (cheap random access), smaller size.

Written to a hidden temporary file next to the target and renamed into place when complete; an existing
target is taken as done.
"""

from __future__ import annotations

import os

import attrs

from action_core.datasets.rawframes import remove_stale_partials, resized_size, temp_name


@attrs.frozen
class EncodeJob:
    """Re-encode ``src`` to ``dst`` with keyframes every ``gop`` frames and the shorter side ``short_side``."""

    src: str
    dst: str
    short_side: int | None = None
    gop: int = 16
    crf: int = 23
    codec: str = "libx264"


@attrs.frozen
class EncodeResult:
    """``num_frames`` written; ``skipped`` when ``dst`` existed; ``error`` says why it failed."""

    dst: str
    num_frames: int = 0
    skipped: bool = False
    error: str | None = None


def reencode_video(job: EncodeJob) -> EncodeResult:
    """Re-encode one clip (see the module docstring); errors are returned, not raised."""
    import av

    if os.path.exists(job.dst):
        return EncodeResult(job.dst, skipped=True)
    os.makedirs(os.path.dirname(job.dst) or ".", exist_ok=True)
    remove_stale_partials(job.dst)
    tmp = temp_name(job.dst)
    fmt = "mp4" if job.dst.lower().endswith((".mp4", ".m4v", ".mov")) else None
    n = 0
    try:
        with (
            av.open(job.src, metadata_errors="replace") as src,
            av.open(tmp, "w", format=fmt or "matroska") as dst,
        ):
            inp = src.streams.video[0]
            rate = inp.average_rate or inp.guessed_rate or 25
            h, w = resized_size(inp.codec_context.height, inp.codec_context.width, job.short_side)
            h, w = h - h % 2, w - w % 2  # 4:2:0 chroma needs even sizes
            out = dst.add_stream(job.codec, rate=rate)
            assert isinstance(out, av.VideoStream)
            out.width, out.height, out.pix_fmt = w, h, "yuv420p"
            out.gop_size = job.gop
            if job.codec == "libx264":
                out.options = {
                    "crf": str(job.crf),
                    "bf": "0",
                    "keyint_min": str(job.gop),
                    "sc_threshold": "0",
                }
            for frame in src.decode(inp):
                img = frame.reformat(width=w, height=h, format="yuv420p")
                img.pts = None
                for packet in out.encode(img):
                    dst.mux(packet)
                n += 1
            for packet in out.encode():
                dst.mux(packet)
        if n == 0:
            raise ValueError("the video holds no decodable frames")
        os.replace(tmp, job.dst)
    except Exception as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        return EncodeResult(job.dst, error=f"cannot re-encode {job.src!r}: {type(e).__name__}: {e}")
    return EncodeResult(job.dst, n)
