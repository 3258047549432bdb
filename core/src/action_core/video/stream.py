"""Frames of a video file, a camera or a network stream, decoded in order with PyAV, in constant memory.

:class:`FrameStream` is what the long-video timeline and the live mode read: one pass, frame after frame,
nothing indexed or kept beyond the frame in hand, so memory does not grow with the length of the video.
(:class:`~action_core.video.VideoReader` is the random-access reader that datasets use; it indexes the
whole file when it opens it.)

Sources:

- a file path (``clip.mp4``);
- a camera: a number (``0`` is ``/dev/video0`` on Linux, the first AVFoundation device on macOS) or a
  device path (``/dev/video2``, read with video4linux2);
- a network stream: ``rtsp://``, ``rtmp://``, ``http(s)://``, ``udp://``, ``tcp://``, ``srt://`` URLs.

Every open and every read is bounded by ``timeout`` seconds, so an unreachable or stalled stream raises
:class:`StreamError` instead of hanging. ``realtime`` paces a file at its frame rate, as a camera would
deliver it. Frames are shown as the file asks: a display rotation is applied.
"""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np

from .errors import MediaError, VideoDecodeError

__all__ = ["FrameStream", "StreamError", "StreamFrame", "prefetch"]

_NETWORK = re.compile(r"^(rtsp|rtsps|rtmp|rtmps|http|https|udp|tcp|srt|rtp|mms)://", re.IGNORECASE)
T = TypeVar("T")


class StreamError(MediaError):
    """A stream could not be opened or stopped delivering frames; ``cause`` says how: ``unreachable``
    (no connection), ``stalled`` (no data for ``timeout`` seconds), ``lost`` (the connection broke or
    the server closed it), ``undecodable``."""


class StreamFrame:
    """One decoded frame: its display ``index`` (from 0), ``time`` in seconds from the first frame,
    ``arrival`` (``time.monotonic()`` when it was decoded, after pacing) and the PyAV ``frame``; ``rgb()``
    converts it once and keeps the result."""

    __slots__ = ("_rgb", "arrival", "frame", "index", "stream", "time")

    def __init__(self, stream: FrameStream, index: int, time_s: float, arrival: float, frame: Any) -> None:
        self.stream, self.index, self.time, self.arrival, self.frame = stream, index, time_s, arrival, frame
        self._rgb: np.ndarray | None = None

    def rgb(self, short_side: int | None = None) -> np.ndarray:
        """The frame as RGB uint8 (H, W, 3), display rotation applied, downscaled so its shorter side is
        ``short_side`` when given; converted on the first call and kept (later calls give the same)."""
        if self._rgb is None:
            self._rgb = self.stream.to_rgb(self.frame, short_side=short_side)
        return self._rgb


def _device(source: str) -> tuple[str, str | None]:
    """``(url, format)`` for a camera number or device path; ``(source, None)`` for anything else."""
    if source.isdigit():
        if sys.platform.startswith("linux"):
            return f"/dev/video{source}", "v4l2"
        if sys.platform == "darwin":
            return source, "avfoundation"
        raise StreamError(
            f"camera {source}: numbered cameras are supported on Linux and macOS; on Windows give the "
            "DirectShow device as a source, e.g. 'video=Integrated Camera' with --format dshow",
            path=source,
            cause="unreachable",
        )
    if source.startswith("/dev/video"):
        return source, "v4l2"
    return source, None


class FrameStream:
    """Decode ``source`` frame by frame (see the module documentation for the sources).

    Args:
        source: file path, camera number or device path, or stream URL.
        timeout: seconds an open or a read may wait for data before :class:`StreamError` (``stalled``).
        realtime: deliver frames no faster than their timestamps (a file then behaves like a camera).
        threads: decoder threads (0: FFmpeg's choice). Frame threading delays each frame by a few frames,
            so live sources decode with slice threads only.
        format: the input format when FFmpeg cannot guess it (``v4l2``, ``dshow``, ``mpegts``...).
        options: extra FFmpeg options for the input (e.g. ``{"rtsp_transport": "tcp"}``).
    """

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        timeout: float = 10.0,
        realtime: bool = False,
        threads: int = 1,
        format: str | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        import av
        from av.video.reformatter import VideoReformatter

        self.source = os.fspath(source)
        url, guessed = _device(self.source)
        self.is_network = bool(_NETWORK.match(url))
        self.is_device = guessed is not None
        self.is_live = self.is_network or self.is_device
        self.timeout = float(timeout)
        self.realtime = bool(realtime)
        if not self.is_live and not os.path.exists(url):
            raise VideoDecodeError(
                f"video file {url!r} does not exist; check the path (a camera is a number or /dev/videoN, a "
                "stream a URL such as rtsp://...)",
                path=url,
                cause="missing",
            )
        try:
            self._container = av.open(
                url, format=format or guessed, options=options or {}, timeout=(self.timeout, self.timeout)
            )
        except av.error.ExitError as e:
            raise StreamError(
                f"no answer from {self.source!r} within {self.timeout:g} s; check that the stream is running "
                "and the address, or raise --timeout",
                path=self.source,
                cause="stalled",
            ) from e
        except (av.error.FFmpegError, OSError) as e:
            raise self._open_error(e) from e
        if not self._container.streams.video:
            self._container.close()
            raise VideoDecodeError(
                f"{self.source!r} has no video stream", path=self.source, cause="no video stream"
            )
        self._stream = self._container.streams.video[0]
        cc = self._stream.codec_context
        if self.is_live:
            cc.thread_type = "SLICE"
            cc.thread_count = max(1, threads)
        else:
            cc.thread_type = "AUTO" if threads != 1 else "SLICE"
            cc.thread_count = threads if threads != 1 else 1
        rate = self._stream.average_rate or self._stream.guessed_rate or self._stream.base_rate
        self.fps = float(rate) if rate else 25.0
        self.width = int(cc.width)
        self.height = int(cc.height)
        self.time_base: Fraction = self._stream.time_base or Fraction(1, round(self.fps))
        duration = None
        if self._stream.duration is not None and self._stream.time_base is not None:
            duration = float(self._stream.duration * self._stream.time_base)
        elif self._container.duration is not None and not self.is_live:
            duration = self._container.duration / 1_000_000
        self.duration: float | None = duration
        self.num_frames: int | None = int(self._stream.frames) or (
            round(duration * self.fps) if duration else None
        )
        self.frames_read = 0
        self._reformatter = VideoReformatter()
        self._closed = False

    def _open_error(self, e: BaseException) -> MediaError:
        import av

        if self.is_live:
            cause = "unreachable"
            hint = "check that the stream is running and the address"
            if isinstance(e, av.error.ConnectionRefusedError):
                hint = "nothing listens there: start the stream, or check the host and port"
            elif self.is_device:
                hint = "check that the camera is connected and not used by another program"
            return StreamError(
                f"cannot open {self.source!r}: {e.strerror if hasattr(e, 'strerror') and e.strerror else e}; "
                f"{hint}",
                path=self.source,
                cause=cause,
            )
        return VideoDecodeError(
            f"cannot open {self.source!r}: {e}; the file is corrupt, truncated or not a video",
            path=self.source,
            cause="undecodable",
        )

    def __iter__(self) -> Iterator[StreamFrame]:
        """The frames in display order; ends at the end of the stream, raises :class:`StreamError` when a
        live stream breaks or stalls and ``VideoDecodeError`` when a file is damaged."""
        import av

        first_pts: int | None = None
        start_wall: float | None = None
        index = 0
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is not None and first_pts is None:
                    first_pts = frame.pts
                if frame.pts is not None and first_pts is not None:
                    t = float((frame.pts - first_pts) * self.time_base)
                else:
                    t = index / self.fps
                now = time.monotonic()
                if self.realtime:
                    if start_wall is None:
                        start_wall = now - t
                    wait = start_wall + t - now
                    if wait > 0:
                        time.sleep(wait)
                        now = time.monotonic()
                self.frames_read = index + 1
                yield StreamFrame(self, index, t, now, frame)
                index += 1
        except av.error.ExitError as e:
            if self._closed:
                return
            raise StreamError(
                f"no data from {self.source!r} for {self.timeout:g} s after {index} frames: the stream "
                "stalled or the connection was lost",
                path=self.source,
                cause="stalled",
            ) from e
        except (av.error.FFmpegError, OSError, EOFError) as e:
            if self._closed:
                return
            if self.is_live:
                raise StreamError(
                    f"lost the connection to {self.source!r} after {index} frames "
                    f"({index / self.fps:.1f} s): {e}",
                    path=self.source,
                    cause="lost",
                ) from e
            raise VideoDecodeError(
                f"cannot decode {self.source!r} after {index} frames: {e}; the file is corrupt or truncated",
                path=self.source,
                cause="undecodable",
            ) from e

    def to_rgb(self, frame: Any, *, short_side: int | None = None) -> np.ndarray:
        """``frame`` as RGB uint8 (H, W, 3), display rotation applied; ``short_side`` downscales so the
        shorter side is that long (never upscales)."""
        from action_core.video.reader import _output_size, _quarter_turns

        height, width = _output_size(frame.height, frame.width, short_side)
        if (height, width) == (frame.height, frame.width):
            rgb = self._reformatter.reformat(frame, format="rgb24").to_ndarray()
        else:
            rgb = self._reformatter.reformat(
                frame, format="rgb24", width=width, height=height, interpolation="AREA"
            ).to_ndarray()
        turns = _quarter_turns(frame.rotation, self.source)
        return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb

    def close(self) -> None:
        """Close the input (a read in progress on another thread ends)."""
        if not self._closed:
            self._closed = True
            self._container.close()

    def __enter__(self) -> FrameStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FrameStream({self.source!r}, {self.width}x{self.height}, {self.fps:g} fps)"


_END = object()


def prefetch(items: Iterable[T], size: int) -> Iterator[T]:
    """Iterate ``items`` on a background thread, up to ``size`` ahead (decoding overlaps the model: PyAV
    decodes without holding the GIL). An exception of the producer is raised here, in order."""
    q: queue.Queue[Any] = queue.Queue(maxsize=max(1, size))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, raised there
            put(e)

    thread = threading.Thread(target=produce, name="action-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
