"""Extract a video's frames as JPEG files (``img_00001.jpg`` ...), MMAction2's rawframe layout.

Each clip is decoded with PyAV, resized with torchvision (shorter side, aspect kept) and encoded with
torchvision's JPEG encoder into a hidden temporary folder next to the target, which is renamed into place
only when every frame is written. A finished folder is never redone; an interrupted one leaves only the
temporary folder, which the next run removes, so no half-filled frame folder is ever visible.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil

import attrs

from action_core.datasets.building import RAWFRAME_TEMPLATE, count_frames


@attrs.frozen
class FrameJob:
    """Extract ``video`` into ``out_dir`` (frames resized so the shorter side is ``short_side``, if given)."""

    video: str
    out_dir: str
    short_side: int | None = None
    quality: int = 95
    template: str = RAWFRAME_TEMPLATE


@attrs.frozen
class FrameResult:
    """``num_frames`` written (or found, when ``skipped``); ``error`` says why a clip failed."""

    out_dir: str
    num_frames: int = 0
    skipped: bool = False
    error: str | None = None


def temp_name(path: str) -> str:
    """The hidden temporary sibling of ``path`` that this process writes before renaming."""
    parent, base = os.path.split(path.rstrip("/"))
    return os.path.join(parent, f".{base}.partial-{os.getpid()}")


def remove_stale_partials(path: str) -> None:
    """Remove temporary siblings of ``path`` left by interrupted runs."""
    parent, base = os.path.split(path.rstrip("/"))
    for stale in glob.glob(os.path.join(glob.escape(parent), f".{glob.escape(base)}.partial-*")):
        if os.path.isdir(stale):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(stale)


def resized_size(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    """(height, width) with the shorter side set to ``short_side`` (never upscaled), aspect ratio kept."""
    if not short_side or min(height, width) <= short_side:
        return height, width
    if height <= width:
        return short_side, max(1, round(width * short_side / height))
    return max(1, round(height * short_side / width)), short_side


def extract_frames(job: FrameJob) -> FrameResult:
    """Extract one clip (see the module docstring); errors are returned, not raised."""
    import av
    import torch
    from torchvision.io import encode_jpeg
    from torchvision.transforms.v2 import functional as F

    if os.path.isdir(job.out_dir):
        return FrameResult(job.out_dir, count_frames(job.out_dir, job.template), skipped=True)
    remove_stale_partials(job.out_dir)
    tmp = temp_name(job.out_dir)
    os.makedirs(tmp)
    n = 0
    try:
        with av.open(job.video, metadata_errors="replace") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                rgb = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1)
                h, w = resized_size(rgb.shape[1], rgb.shape[2], job.short_side)
                if (h, w) != tuple(rgb.shape[1:]):
                    rgb = F.resize(rgb, [h, w], antialias=True)
                data = encode_jpeg(rgb.contiguous(), quality=job.quality)
                n += 1
                with open(os.path.join(tmp, job.template.format(n)), "wb") as f:
                    f.write(data.numpy().tobytes())
        if n == 0:
            raise ValueError("the video holds no decodable frames")
        os.rename(tmp, job.out_dir)
    except Exception as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return FrameResult(
            job.out_dir, error=f"cannot extract frames of {job.video!r}: {type(e).__name__}: {e}"
        )
    return FrameResult(job.out_dir, n)
