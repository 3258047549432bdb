"""Opening media for a results dict and the ``DecodeFrames`` pipeline step.

A results dict names its media with ``filename`` (a video) or ``frame_dir`` (a frame folder). The reader is
opened once per sample, the first time a step needs it: samplers need the frame count, ``DecodeFrames`` the
frames. ``DecodeFrames`` closes it. The video package is imported only here, when media is opened.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _media_error(message: str, path: str | None, cause: str) -> Exception:
    from action_core.video import MediaError

    return MediaError(message, path=path, cause=cause)


def start_index_of(results: dict[str, Any]) -> int:
    """Number of the first frame in ``frame_inds``: ``results["start_index"]``, else 1 for frame folders and 0
    otherwise (MMAction2's defaults)."""
    return int(results.get("start_index", 1 if "frame_dir" in results else 0))


def open_media(results: dict[str, Any]) -> Any:
    """Return the reader for this sample, opening it (and filling ``total_frames``/``avg_fps``) if needed.

    Reader options (``num_threads``, ``short_side``, ``autorotate``) come from ``results["media_options"]``, which the
    pipeline fills from its ``DecodeFrames`` step.
    """
    reader = results.get("reader")
    if reader is not None:
        return reader
    from action_core.video import RawframeReader, VideoReader

    options = dict(results.get("media_options") or {})
    if "filename" in results:
        reader = VideoReader(
            results["filename"],
            num_threads=options.get("num_threads", 1),
            short_side=options.get("short_side"),
            autorotate=options.get("autorotate", True),
        )
        results["reader"] = reader
        _restrict_to_segment(results, reader)
        results["avg_fps"] = reader.fps
    elif "frame_dir" in results:
        start_index = start_index_of(results)
        total = results.get("total_frames")
        modality = results.get("modality", "RGB")
        template = results.get("filename_tmpl", "img_{:05d}.jpg" if modality == "RGB" else "{}_{:05d}.jpg")
        reader = RawframeReader(
            results["frame_dir"],
            template=template,
            flow_template=template,
            # MMAction2 reads file number frame_ind + offset where frame_ind already includes start_index.
            start_index=start_index + int(results.get("offset", 0)),
            modality=modality,
            num_frames=total,
            fps=results.get("avg_fps"),
            short_side=options.get("short_side"),
        )
        results["reader"] = reader
        results.setdefault("total_frames", reader.num_frames)
    else:
        raise KeyError("results name no media: expected 'filename' (video) or 'frame_dir' (frame folder)")
    results["original_shape"] = (reader.height, reader.width)
    results["img_shape"] = (reader.height, reader.width)
    return reader


def _restrict_to_segment(results: dict[str, Any], reader: Any) -> None:
    # A record with start/end seconds samples only the frames shown in [start, end).
    total = int(reader.num_frames)
    start, end = results.get("start_time"), results.get("end_time")
    first, stop = 0, total
    if start is not None or end is not None:
        times = np.asarray(reader.frame_times)
        if start is not None:
            first = int(np.searchsorted(times, float(start) - 1e-6, side="left"))
        if end is not None:
            stop = int(np.searchsorted(times, float(end) - 1e-6, side="left"))
    if stop <= first:
        raise _media_error(
            f"{reader.path!r}: no frame in the segment [{start}, {end}) s of a video of {total} frames; "
            "check the record's start/end times",
            reader.path,
            "too short",
        )
    results["frame_offset"] = first
    results["total_frames"] = stop - first


def media_num_frames(results: dict[str, Any]) -> int:
    """Frames available to the sampler (``total_frames``), opening the media if it is not known yet."""
    total = results.get("total_frames")
    if total is None:
        open_media(results)
        total = results["total_frames"]
    total = int(total)
    if total <= 0:
        path = results.get("filename", results.get("frame_dir"))
        raise _media_error(f"{path!r} has no frames to sample", path, "empty")
    return total


def _read_cheap_segments(reader: Any, results: dict[str, Any], offset: int) -> tuple[Any, np.ndarray]:
    # SampleFrames(fast=True): one frame per segment, picked by the reader among cheap frames; readers
    # without that ability (frame folders: every frame costs the same) draw uniformly in each segment.
    bounds = np.asarray(results.pop("segment_bounds"), dtype=np.int64) + offset
    rng = np.random.default_rng(results.pop("segment_seed", None))
    if hasattr(reader, "read_segments"):
        imgs, chosen = reader.read_segments(bounds, rng=rng, layout="TCHW")
        return imgs, np.asarray(chosen, dtype=np.int64)
    chosen = bounds[:, 0] + (rng.random(len(bounds)) * (bounds[:, 1] - bounds[:, 0])).astype(np.int64)
    return reader.get_frames(chosen, layout="TCHW"), chosen


class DecodeFrames:
    """Read the frames at ``frame_inds`` into ``imgs``: a uint8 tensor (T, C, H, W), RGB.

    Args:
        num_threads: decoder threads for video files.
        short_side: let the decoder downscale frames so their shorter side is this (only ever smaller); use it
            when the pipeline resizes anyway.
        autorotate: show frames as the file asks (a phone clip's display rotation applied, as the ffmpeg
            tool does); False gives the frames as coded, as MMAction2's decoders (decord, OpenCV, PyAV) do.
    """

    def __init__(self, num_threads: int = 1, short_side: int | None = None, autorotate: bool = True) -> None:
        self.media_options = {
            "num_threads": int(num_threads),
            "short_side": short_side,
            "autorotate": bool(autorotate),
        }

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        results.setdefault("media_options", self.media_options)
        reader = open_media(results)
        offset = int(results.get("frame_offset", 0))
        try:
            if "segment_bounds" in results:
                imgs, inds = _read_cheap_segments(reader, results, offset)
                results["frame_inds"] = inds - offset + start_index_of(results)
            else:
                inds = np.asarray(results["frame_inds"], dtype=np.int64).reshape(-1)
                inds = inds - start_index_of(results) + offset
                imgs = reader.get_frames(inds, layout="TCHW")
        finally:
            reader.close()
            results.pop("reader", None)
        results["imgs"] = imgs
        results["img_shape"] = (int(imgs.shape[-2]), int(imgs.shape[-1]))
        results.setdefault("num_crops", 1)
        return results

    def __repr__(self) -> str:
        opts = self.media_options
        return (
            f"DecodeFrames(num_threads={opts['num_threads']}, short_side={opts['short_side']}, "
            f"autorotate={opts['autorotate']})"
        )
