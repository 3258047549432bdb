"""Frame-exact random access to video files on PyAV.

``VideoReader.get_frames(indices)`` returns exactly the frames a full sequential decode yields at those
display indices, decoding as little as it can: indices are sorted and deduplicated, each stretch is
entered at the keyframe before it only when that keyframe lies ahead of the decoder (so it is cheaper
than decoding forward), no packet is fed twice in one call, and packets that are neither requested nor
referenced by other frames (non-reference frames) are skipped by the decoder instead of decoded.

Frames are identified by their presentation timestamps, which are read once, by demuxing without
decoding, when the file is opened; that pass also counts the frames (``frame_count_source``). Streams
whose packets lack timestamps (raw elementary streams) fall back to counting frames in a sequential
decode from the start. Containers that seek by byte position (MPEG-PS/TS) are never seeked: the reader
reopens them and demuxes, without decoding, up to the keyframe it needs.

AVI stores no presentation timestamps; there the display order comes from the decode order (codecs that
never reorder frames) or from the picture types in the bitstream (MPEG-4 Part 2: XviD, DivX, whose "packed"
B-frames are first split by FFmpeg's ``mpeg4_unpack_bframes`` bitstream filter). Every frame the decoder
outputs is checked against the index (by the pts it was fed with, and by its order); a file whose index
turns out wrong, or that cannot be indexed, is read by counting frames in sequential decodes instead: slower,
always exact, and said once in the log (``reader.fallback_reason``).

Frames are shown as the file asks (``autorotate``): a display rotation (a display matrix, or the legacy
``rotate`` tag, as phones write them) is applied, as the ffmpeg command-line tool does by default.

``read_segments``/``sample_segments`` are the fast training mode: one frame per segment, chosen among
frames that are cheap to reach; the frames are exact, only the choice of index is biased.

Bad media raise ``VideoDecodeError`` (a ``MediaError``) with ``path`` and ``cause``: ``missing``,
``empty``, ``truncated`` (damaged packets, an MP4 sample table or an AVI RIFF size longer than the
file), ``undecodable``, ``no video stream``, ``index out of range``, ``stalled`` (a read that ran past
``timeout``) or ``closed``.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import struct
import time
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Literal

import av
import numpy as np
import torch
from av.bitstream import BitStreamFilterContext
from av.video.reformatter import VideoReformatter

from .errors import VideoDecodeError
from .index import NO_TS, PacketIndex, build_avi_index, build_index, demux_packets, riff_truncated
from .mpeg4 import Mpeg4VopReader

logger = logging.getLogger("action_core.video")

Layout = Literal["TCHW", "THWC"]

# Container formats whose header frame count is their packet table: fewer packets than it means the
# file was cut short. Other formats (AVI above all) carry counts that are often simply wrong.
_INDEXED_FORMATS = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")
# Formats whose demuxers seek through an index of packets, so packets after a seek are the same as in
# a sequential read.
_SEEKABLE_FORMATS = ("mov", "mp4", "matroska", "webm", "avi", "flv")
# Files whose video packets add up to at most this keep them in memory from the indexing pass: reads
# then never demux twice nor seek in the container (a clip of 10 s at 1 Mbit/s holds ~1.3 MB).
PACKET_CACHE_BYTES = 64 << 20


class _InexactSeek(Exception):
    """Packets read after a seek differ from the index: the reader falls back to reopening."""


class _IndexMismatch(Exception):
    """The decoder output a frame the index did not foresee: the reader falls back to counting frames."""


_REPORTED_FALLBACKS: set[str] = set()  # files whose fallback was logged (once per process)
_REPORTED_ROTATIONS: set[str] = set()


@dataclasses.dataclass
class DecodeStats:
    """Work done by one ``get_frames``/``read_segments`` call (``reader.last_stats``)."""

    packets_read: int = 0  # packets demuxed, fed or not
    packets_fed: int = 0  # packets sent to the decoder
    packets_fed_twice: int = 0  # packets fed more than once (0 unless a missing frame forced a retry)
    frames_decoded: int = 0  # frames the decoder produced (skipped non-reference frames excluded)
    frames_returned: int = 0  # distinct frames converted to RGB
    seeks: int = 0
    retries: int = 0
    seconds: float = 0.0
    fed: set[int] = dataclasses.field(default_factory=set, repr=False)  # decode ordinals fed


class VideoReader:
    """Random access to the frames of one video file, opened once.

    Args:
        path: video file.
        num_threads: decoder threads (1 = single-threaded; >1 enables frame and slice threading).
        short_side: when given and smaller than the video's shorter side, frames are downscaled during
            RGB conversion so that their shorter side is ``short_side`` (aspect ratio kept, area
            interpolation). Use it when the pipeline resizes anyway; ``height``/``width`` report the
            output size, ``source_height``/``source_width`` the coded one.
        timeout: seconds any one open or read may take before it fails with ``VideoDecodeError``
            instead of hanging on a stalled stream.

    ``num_frames`` is truthful: ``frame_count_source`` says how it was obtained:
    ``"index"`` (packets counted by demuxing, header agrees or has none), ``"index, header wrong"``
    (header count differs; packets counted) or ``"decoded"`` (frames counted by a full decode, for
    streams without timestamps). ``header_num_frames`` keeps what the header claimed (0 = none).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        num_threads: int = 1,
        short_side: int | None = None,
        timeout: float = 60.0,
        autorotate: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        self.num_threads = int(num_threads)
        self.timeout = float(timeout)
        self.autorotate = bool(autorotate)
        self.last_stats = DecodeStats()
        self.fallback_reason: str | None = None
        self._container: av.container.InputContainer | None = None
        self._packets: list[av.Packet] | None = None  # all video packets, when small enough to keep
        self._bsf_name: str | None = None
        self._closed = False
        self._reformatter = VideoReformatter()
        self._check_file()
        with self._errors("open"):
            self._open_container()
            stream = self._stream
            self.header_num_frames = int(stream.frames or 0)
            self.source_height = int(stream.codec_context.height)
            self.source_width = int(stream.codec_context.width)
            self.time_base: Fraction = stream.time_base or Fraction(1, 1)
            self.rotation = container_rotation(self.path, self._c) if self.autorotate else 0
            self._build_index(stream)
        self.short_side = short_side
        self._scaled_size = _output_size(self.source_height, self.source_width, short_side)

    @property
    def height(self) -> int:
        """Height of the frames returned (after ``short_side`` scaling and display rotation)."""
        h, w = self._scaled_size
        return w if self.rotation % 180 else h

    @property
    def width(self) -> int:
        """Width of the frames returned (after ``short_side`` scaling and display rotation)."""
        h, w = self._scaled_size
        return h if self.rotation % 180 else w

    # -- opening -----------------------------------------------------------------------------------

    def _check_file(self) -> None:
        if not os.path.exists(self.path):
            raise VideoDecodeError(
                f"video file {self.path!r} does not exist; check the path and the data root",
                path=self.path,
                cause="missing",
            )
        if os.path.isdir(self.path):
            raise VideoDecodeError(
                f"{self.path!r} is a directory, not a video file", path=self.path, cause="missing"
            )
        if os.path.getsize(self.path) == 0:
            raise VideoDecodeError(
                f"video file {self.path!r} is empty (0 bytes); re-download or drop it",
                path=self.path,
                cause="empty",
            )

    def _open_container(self) -> None:
        if self._container is not None:
            self._container.close()
        # Metadata is decoded leniently: a title in Latin-1 must not make a readable video unreadable.
        self._container = av.open(self.path, timeout=self.timeout, metadata_errors="replace")
        if not self._container.streams.video:
            raise VideoDecodeError(
                f"{self.path!r} has no video stream (not a video, or truncated before its index)",
                path=self.path,
                cause="no video stream",
            )
        self._stream = self._container.streams.video[0]
        cc = self._stream.codec_context
        if cc is None:
            raise VideoDecodeError(
                f"{self.path!r}: no decoder for its video stream; the file is damaged, or its codec is not in "
                "this FFmpeg build",
                path=self.path,
                cause="undecodable",
            )
        if self.num_threads > 1:
            cc.thread_type = "AUTO"
            cc.thread_count = self.num_threads
        else:
            cc.thread_type = "SLICE"
            cc.thread_count = 1
        self._bsf = BitStreamFilterContext(self._bsf_name, self._stream) if self._bsf_name else None
        self._demux: Iterator[av.Packet] | None = None
        self._pushback: tuple[int, av.Packet] | None = None
        self._next_ord = 0  # decode ordinal of the next packet the demuxer yields
        self._call_start_ord = 0  # packets from here on were fed under the current call's choices
        self._out_count = 0  # frames output since the start (ordinal mode only)
        self._frontier = -1  # display index of the last frame handed out since the last seek
        self._pending: collections.deque[tuple[int, av.VideoFrame]] = collections.deque()
        self._last_out = -1  # display index of the last frame the decoder output since the last reset
        self._exhausted = False  # decoder drained at end of stream: must be flushed before reuse
        self._must_seek = False  # the decoder's state cannot give what the current call wants
        self._skip = "DEFAULT"
        cc.skip_frame = "DEFAULT"
        # FFmpeg's own decoders apply skip_frame to the packet they are given; wrapped libraries (dav1d)
        # read it later, on their own threads, so skipping there could drop a wanted frame.
        self._skip_ok = not cc.codec.name.startswith("lib")

    def _build_index(self, stream: av.VideoStream) -> None:
        deadline = time.monotonic() + self.timeout
        fmt = self._c.format.name.split(",")
        is_avi = "avi" in fmt
        codec = stream.codec_context.codec
        part2 = codec.name == "mpeg4"
        if part2:
            # XviD/DivX "packed bitstream": one packet holds a P-frame and the next B-frame, followed by a
            # placeholder packet. Unpacked, every packet holds one picture, as the index needs.
            self._bsf_name = "mpeg4_unpack_bframes"
            self._bsf = BitStreamFilterContext(self._bsf_name, stream)
        inspect = Mpeg4VopReader(stream.codec_context.extradata) if (is_avi and part2) else None
        try:
            demuxed = demux_packets(
                self._c,
                stream,
                deadline=deadline,
                keep_bytes=PACKET_CACHE_BYTES,
                bsf=self._bsf,
                inspect=inspect,
            )
        except TimeoutError as e:
            raise VideoDecodeError(
                f"reading {self.path!r} stalled: {e}; the file or its storage is not responding",
                path=self.path,
                cause="stalled",
            ) from e
        except av.error.FFmpegError as e:
            raise VideoDecodeError(
                f"{self.path!r} is truncated or corrupt: demuxing failed ({e}); re-encode or drop it",
                path=self.path,
                cause="truncated",
            ) from e
        pts, dts, key, dur, sizes = (
            demuxed.pts,
            demuxed.dts,
            demuxed.keyframe,
            demuxed.durations,
            demuxed.sizes,
        )
        self._packets = demuxed.packets
        if pts.shape[0] == 0:
            raise VideoDecodeError(
                f"{self.path!r} holds no video packets; the file is truncated or empty",
                path=self.path,
                cause="truncated",
            )
        corrupt = demuxed.corrupt
        if corrupt or (is_avi and riff_truncated(self.path)):
            where = (
                f"packets {corrupt[:5]} of {pts.shape[0]} are damaged"
                if corrupt
                else "it ends before its header says"
            )
            raise VideoDecodeError(
                f"{self.path!r} is truncated or corrupt: {where}; re-download or drop it",
                path=self.path,
                cause="truncated",
            )
        if self.header_num_frames > pts.shape[0] and any(f in fmt for f in _INDEXED_FORMATS):
            raise VideoDecodeError(
                f"{self.path!r} is truncated: its index lists {self.header_num_frames} frames but only "
                f"{pts.shape[0]} can be read; re-download or drop it",
                path=self.path,
                cause="truncated",
            )
        why_not = ""
        if is_avi:
            # AVI has decode timestamps only; the pts FFmpeg reports there are its guesses.
            if part2:
                self._index = build_avi_index(pts, dts, key, dur, demuxed.inspected)
                why_not = "its MPEG-4 picture headers cannot be read"
            elif not codec.reorder:
                self._index = build_avi_index(pts, dts, key, dur, None)
                why_not = "its decode timestamps are missing or not increasing"
            else:
                self._index = None
                why_not = (
                    f"AVI stores no presentation timestamps for {codec.name}, whose frames are reordered"
                )
        else:
            self._index = build_index(pts, dts, key, dur)
            why_not = "its packets lack unique presentation timestamps"
        # Byte-position seeking (MPEG-PS/TS, raw streams) can hand packets back with timestamps other
        # than a sequential read gives; there, the reader reopens the file instead of seeking and
        # demuxes (without decoding) up to the entry keyframe.
        self._seekable = any(f in fmt for f in _SEEKABLE_FORMATS)
        self._sizes = sizes
        self._cum_bytes: np.ndarray | None = None
        if self._index is not None:
            self._use_index(self._index)
            if self._packets is not None and self._index.synthetic:
                for ordinal, packet in enumerate(self._packets):
                    packet.pts = int(self._index.ident[ordinal])
            self._rewind()
        else:
            self._fall_back(why_not, deadline)
        if self.num_frames == 0:
            raise VideoDecodeError(
                f"{self.path!r} has no decodable frames", path=self.path, cause="undecodable"
            )

    def _use_index(self, index: PacketIndex) -> None:
        # Packets coming from the demuxer are recognised by the container's pts, or by its dts where the
        # identities are made up (AVI).
        keys = index.dts if index.synthetic else index.pts
        self._ord_of_key = {int(k): i for i, k in enumerate(keys)}
        self._disp_of_ident = {int(p): i for i, p in enumerate(index.display_ident)}
        self.num_frames = index.num_frames
        agrees = self.header_num_frames in (0, self.num_frames)
        self.frame_count_source = "index" if agrees else "index, header wrong"

    def _fall_back(self, reason: str, deadline: float) -> None:
        """Read by counting frames in sequential decodes of the unfiltered packets (exact, slower)."""
        self.fallback_reason = reason
        if self.path not in _REPORTED_FALLBACKS:
            _REPORTED_FALLBACKS.add(self.path)
            logger.warning(
                "%s cannot be indexed exactly (%s); reading it by decoding from the start (exact, slower)",
                self.path,
                reason,
            )
        had = getattr(self, "num_frames", None)
        self._index = None
        self._packets = None
        self._bsf_name = None
        self._open_container()
        self.num_frames = self._count_by_decoding(deadline)
        self.frame_count_source = "decoded"
        if had is not None and had != self.num_frames:
            logger.warning("%s: %d frames by decoding, %d by its index", self.path, self.num_frames, had)

    def _count_by_decoding(self, deadline: float) -> int:
        n = 0
        for _ in self._frames_from(0, frozenset(), deadline, DecodeStats()):
            n += 1
        self._rewind()
        return n

    # -- properties --------------------------------------------------------------------------------

    @property
    def _c(self) -> av.container.InputContainer:
        if self._container is None:
            raise VideoDecodeError(f"reader for {self.path!r} is closed", path=self.path, cause="closed")
        return self._container

    @property
    def _ix(self) -> PacketIndex:
        assert self._index is not None, "index-only path taken without an index"
        return self._index

    @property
    def fps(self) -> float:
        """Average frame rate (frames per second)."""
        rate = self._stream.average_rate or self._stream.guessed_rate
        if rate:
            return float(rate)
        if self._index is not None and self.num_frames > 1:
            span = float((self._index.display_ts[-1] - self._index.display_ts[0]) * self.time_base)
            if span > 0:
                return (self.num_frames - 1) / span
        return 25.0

    @property
    def keyframe_indices(self) -> np.ndarray:
        """Display indices of the frames decoding can start from (int64; ``[0]`` without timestamps)."""
        if self._index is None:
            return np.zeros(1, dtype=np.int64)
        keys = np.unique(self._index.start_key)
        return np.sort(
            np.array([self._disp_of_ident[int(self._index.ident[k])] for k in keys], dtype=np.int64)
        )

    @property
    def frame_times(self) -> np.ndarray:
        """Presentation time of each frame in seconds, relative to the first frame (display order)."""
        if self._index is None:
            return np.arange(self.num_frames, dtype=np.float64) / self.fps
        rel = self._index.display_ts - self._index.display_ts[0]
        return rel.astype(np.float64) * float(self.time_base)

    @property
    def duration(self) -> float:
        """Seconds from the first frame's start to the last frame's end."""
        if self._index is None:
            return self.num_frames / self.fps
        last = int(self._index.durations[self._index.packet_of_display[-1]])
        last_s = last * float(self.time_base) if last > 0 else 1.0 / self.fps
        return float(self.frame_times[-1]) + last_s

    # -- decoding ----------------------------------------------------------------------------------

    def get_frames(
        self, indices: Sequence[int] | np.ndarray | torch.Tensor, *, layout: Layout = "TCHW"
    ) -> torch.Tensor:
        """Return the frames at ``indices`` (display order, 0-based) as a uint8 RGB tensor.

        The result is (T, C, H, W) for ``layout="TCHW"`` or (T, H, W, C) for ``"THWC"``, in the order
        of ``indices`` (duplicates allowed), byte for byte what a full sequential decode converted with
        ``frame.to_ndarray(format="rgb24")`` gives. The TCHW result is a channels-last view of a THWC
        buffer (no copy); call ``.contiguous()`` if an op needs contiguous memory.
        """
        idx = self._check_indices(indices)
        stats = self.last_stats = DecodeStats()
        start = time.monotonic()
        with self._errors("decode"):
            try:
                got = self._decode_exact(np.unique(idx), stats, start + self.timeout)
            except _IndexMismatch as e:
                self._fall_back(str(e), start + self.timeout)
                idx = self._check_indices(indices)
                got = self._decode_exact(np.unique(idx), stats, start + self.timeout)
        stats.frames_returned = len(got)
        stats.seconds = time.monotonic() - start
        return self._assemble([got[int(d)] for d in idx], layout)

    def read_segments(
        self,
        bounds: Sequence[tuple[int, int]] | np.ndarray,
        *,
        rng: np.random.Generator | None = None,
        layout: Layout = "TCHW",
        keyframe_snap: bool = True,
    ) -> tuple[torch.Tensor, np.ndarray]:
        """Fast training mode: one frame from each ``[start, end)`` segment, chosen among cheap frames.

        Two choices make frames cheap to reach, both only ever moving the pick inside its segment:

        * ``keyframe_snap``: when a keyframe lies inside a segment, the pick is drawn from that
          keyframe on if that is cheaper on average than drawing from the whole segment (it is when
          reaching the segment's start needs a long chain of frames before the keyframe; it is not
          when the decoder is already close by). Expected costs are estimated from packet sizes.
        * The frame returned is the *reference* frame nearest a uniformly drawn position (ties to the
          earlier one), so non-reference frames are never decoded at all (about half of H.264 with
          B-frames). A segment without a reference frame in reach falls back to the drawn position.

        The frames returned are exact (byte-identical to a sequential decode at the returned indices);
        only the choice of index is biased. Segments must be sorted and non-overlapping. Returns the
        frames (layout as in ``get_frames``) and the chosen display indices (int64). Use it for
        training-time sampling only; test-time sampling should use ``get_frames``.
        """
        rng = rng if rng is not None else np.random.default_rng()
        b = np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
        if b.shape[0] == 0:
            return self._assemble([], layout), np.zeros(0, dtype=np.int64)
        if (b[:, 0] < 0).any() or (b[:, 1] > self.num_frames).any() or (b[:, 1] <= b[:, 0]).any():
            raise VideoDecodeError(
                f"segments {b.tolist()} are empty or outside the {self.num_frames} frames of {self.path!r}",
                path=self.path,
                cause="index out of range",
            )
        if (b[1:, 0] < b[:-1, 1]).any():
            raise ValueError(f"segments must be sorted and non-overlapping, got {b.tolist()}")
        stats = self.last_stats = DecodeStats()
        start = time.monotonic()
        with self._errors("decode"):
            state = rng.bit_generator.state
            try:
                chosen, arrays = self._decode_cheap(b, rng, keyframe_snap, stats, start + self.timeout)
            except _IndexMismatch as e:
                self._fall_back(str(e), start + self.timeout)
                rng.bit_generator.state = state
                if (b[:, 1] > self.num_frames).any():
                    raise VideoDecodeError(
                        f"segments {b.tolist()} are outside the {self.num_frames} frames of {self.path!r} "
                        "counted by decoding (its index counted more)",
                        path=self.path,
                        cause="index out of range",
                    ) from e
                chosen, arrays = self._decode_cheap(b, rng, keyframe_snap, stats, start + self.timeout)
        stats.frames_returned = len(set(chosen.tolist()))
        stats.seconds = time.monotonic() - start
        return self._assemble(arrays, layout), chosen

    def sample_segments(
        self, num_segments: int, *, rng: np.random.Generator | None = None, layout: Layout = "TCHW"
    ) -> tuple[torch.Tensor, np.ndarray]:
        """TSN training sampling in fast mode: split the video into ``num_segments`` equal segments and
        read one cheap frame from each (see ``read_segments``). Videos shorter than ``num_segments``
        frames get their frames spread over the segments, read exactly."""
        n = self.num_frames
        if n >= num_segments:
            edges = (np.arange(num_segments + 1) * n) // num_segments
            return self.read_segments(np.stack([edges[:-1], edges[1:]], axis=1), rng=rng, layout=layout)
        idx = (np.arange(num_segments) * n) // num_segments
        return self.get_frames(idx, layout=layout), idx.astype(np.int64)

    def close(self) -> None:
        """Release the file; further reads fail."""
        if self._container is not None:
            self._container.close()
            self._container = None
        self._packets = None
        self._pending.clear()
        self._closed = True

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        return (
            f"VideoReader({self.path!r}, num_frames={self.num_frames} ({self.frame_count_source}), "
            f"fps={self.fps:.3f}, size={self.width}x{self.height})"
        )

    # -- internals ---------------------------------------------------------------------------------

    def _check_indices(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> np.ndarray:
        if self._closed:
            raise VideoDecodeError(f"reader for {self.path!r} is closed", path=self.path, cause="closed")
        if isinstance(indices, torch.Tensor):
            indices = indices.cpu().numpy()
        idx = np.asarray(indices).reshape(-1)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"frame indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_frames):
            bad = idx[(idx < 0) | (idx >= self.num_frames)]
            raise VideoDecodeError(
                f"frame indices {bad[:5].tolist()} are out of range for {self.path!r}, which has "
                f"{self.num_frames} frames (counted: {self.frame_count_source}); the annotation's frame "
                "count may be wrong or the video too short",
                path=self.path,
                cause="index out of range",
            )
        return idx

    def _decode_exact(self, wanted: np.ndarray, stats: DecodeStats, deadline: float) -> dict[int, np.ndarray]:
        got: dict[int, np.ndarray] = {}
        wanted_set = set(wanted.tolist())
        keep = (
            frozenset(self._pts_of_display(d) for d in wanted_set) if self._index is not None else frozenset()
        )
        self._call_start_ord = self._next_ord
        if self._index is not None:
            # A wanted frame whose packet an earlier call already fed (with non-reference frames
            # skipped) and that has not come out yet may be lost: enter afresh rather than find out
            # halfway and feed packets twice.
            queued = {p[0] for p in self._pending}
            fed = self._index.packet_of_display[wanted] < self._next_ord
            if any(f and d > self._frontier and d not in queued for d, f in zip(wanted.tolist(), fed)):
                self._must_seek = True
        attempts = 0
        i = 0
        while i < len(wanted):
            d = int(wanted[i])
            if d in got:
                i += 1
                continue
            for disp, frame in self._frames_from(d, keep, deadline, stats, attempt=attempts):
                if disp in wanted_set and disp not in got:
                    got[disp] = self._to_array(frame)
                if disp >= d:
                    break
            if d in got:
                attempts = 0
                i += 1
                continue
            # The decoder did not produce the frame from the chosen entry point (a keyframe flag that
            # is not a clean entry point, a corrupt stretch): seek again, then from earlier keyframes.
            stats.retries += 1
            attempts += 1
            if attempts > 3 and self._index is not None:
                raise _IndexMismatch(f"the decoder never output frame {d} where the index expects it")
            if attempts > 3:
                raise VideoDecodeError(
                    f"frame {d} of {self.path!r} could not be decoded (the decoder produced no frame for it "
                    "even when decoding from the start); the file is corrupt or truncated",
                    path=self.path,
                    cause="undecodable",
                )
        return got

    def _decode_cheap(
        self, bounds: np.ndarray, rng: np.random.Generator, snap: bool, stats: DecodeStats, deadline: float
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        n = bounds.shape[0]
        uniform = np.asarray(rng.random(n))
        if self._index is None:
            # Without timestamps nothing can be skipped: read the drawn positions exactly.
            drawn = bounds[:, 0] + (uniform * (bounds[:, 1] - bounds[:, 0])).astype(np.int64)
            got = self._decode_exact(np.unique(drawn), stats, deadline)
            return drawn, [got[int(d)] for d in drawn]
        chosen = np.zeros(n, dtype=np.int64)
        draws = np.zeros(n, dtype=np.int64)
        frames: list[av.VideoFrame | None] = [None] * n
        self._call_start_ord = self._next_ord
        for k in range(n):
            s, e = int(bounds[k, 0]), int(bounds[k, 1])
            lo = self._snap_start(s, e) if snap else s
            u = lo + int(uniform[k] * (e - lo))
            draws[k] = u
            # Any frame of the segment will do: when the decoder has already passed the draw (a skipped
            # frame), go on from where it is rather than seek back for it.
            aim = self._frontier + 1 if lo <= self._frontier + 1 < e and u <= self._frontier else u
            best: tuple[int, av.VideoFrame] | None = None
            for disp, frame in self._frames_from(aim, frozenset(), deadline, stats, skip_all=True):
                if disp < lo:
                    continue
                if disp <= u:
                    best = (disp, frame)
                    if disp == u:
                        break
                    continue
                if disp < e and (best is None or disp - u < u - best[0]):
                    best = (disp, frame)
                else:
                    self._unyield(disp, frame)  # may be the next segment's frame
                break
            if best is not None:
                chosen[k], frames[k] = best
        missing = [k for k in range(n) if frames[k] is None]
        exact = self._decode_exact(np.unique(draws[missing]), stats, deadline) if missing else {}
        arrays: list[np.ndarray] = []
        for k, picked in enumerate(frames):
            if picked is None:
                chosen[k] = draws[k]
                arrays.append(exact[int(draws[k])])
            else:
                arrays.append(self._to_array(picked))
        return chosen, arrays

    def _snap_start(self, s: int, e: int) -> int:
        """First display index to draw from in segment [s, e): s, or the last keyframe inside the
        segment when drawing from there costs less on average (costs: bytes of packets to decode)."""
        ix = self._ix
        entries = ix.start_key[s:e]
        changes = np.flatnonzero(entries != entries[-1])
        if not changes.size:
            return s
        k_lo = s + int(changes[-1]) + 1
        if self._cum_bytes is None:
            self._cum_bytes = np.concatenate([[0], np.cumsum(self._sizes)])
        ords = ix.packet_of_display[s:e]
        entry = entries.copy()
        if not self._exhausted:
            # Frames the decoder can reach by going on cost only the packets from where it is.
            forward = (entry <= self._next_ord) & (ords >= self._next_ord)
            entry[forward] = self._next_ord
        cost = self._cum_bytes[ords + 1] - self._cum_bytes[entry]
        return k_lo if cost[k_lo - s :].mean() < cost.mean() else s

    def _pts_of_display(self, d: int) -> int:
        return int(self._ix.display_ident[d])

    def _unyield(self, disp: int, frame: av.VideoFrame) -> None:
        self._pending.appendleft((disp, frame))
        self._frontier = disp - 1

    def _frames_from(
        self,
        d: int,
        keep: frozenset[int],
        deadline: float,
        stats: DecodeStats,
        *,
        attempt: int = 0,
        skip_all: bool = False,
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        """Position the decoder so that display frame ``d`` will come out, then yield decoded frames
        (display index, frame) in display order until the end of the stream.

        Packets whose pts is not in ``keep`` are fed with non-reference frames skipped (all packets
        when ``skip_all``). ``attempt`` > 0 forces a seek, entering ``attempt - 1`` keyframes earlier
        than needed (3 = from the start).
        """
        self._position(d, stats, attempt=attempt)
        cc = self._stream.codec_context  # after positioning: a rewind may have reopened the file
        while True:
            while self._pending:
                item = self._pending.popleft()
                self._frontier = item[0]
                yield item
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"decoding stalled: {stats.packets_fed} packets fed in {self.timeout:.0f} s"
                )
            try:
                read = self._read_packet()
            except _InexactSeek:
                self._exhausted = True  # force a fresh start for whatever is still wanted
                return
            if read is None:
                if self._exhausted:
                    return
                frames = cc.decode(None)
                self._exhausted = True
            else:
                stats.packets_read += 1
                ordinal, packet = read
                if self._index is not None and self._skip_ok:
                    skip = "NONREF" if skip_all or packet.pts not in keep else "DEFAULT"
                    if skip != self._skip:
                        cc.skip_frame = skip
                        self._skip = skip
                stats.packets_fed += 1
                if ordinal in stats.fed:
                    stats.packets_fed_twice += 1
                stats.fed.add(ordinal)
                frames = cc.decode(packet)
            for frame in frames:
                if self._index is None:
                    disp = self._out_count
                    self._out_count += 1
                else:
                    found = self._disp_of_ident.get(-1 if frame.pts is None else frame.pts)
                    if found is None:
                        if self._index.synthetic:
                            raise _IndexMismatch(f"the decoder output a frame for packet pts {frame.pts}")
                        continue
                    disp = found
                    if disp <= self._last_out:
                        raise _IndexMismatch(
                            f"the decoder output frame {disp} after frame {self._last_out}, "
                            "against the display order of the index"
                        )
                    self._last_out = disp
                stats.frames_decoded += 1
                self._pending.append((disp, frame))

    def _position(self, d: int, stats: DecodeStats, *, attempt: int) -> None:
        """Seek only when frame ``d`` can no longer come out of the decoder, or when its entry keyframe
        lies ahead of the decoder (then entering there is cheaper than decoding forward)."""
        if not attempt and self._pending and self._pending[0][0] <= d <= self._pending[-1][0]:
            return  # already decoded, waiting in the output queue
        if self._index is None:
            if attempt or self._exhausted or d <= self._frontier:
                stats.seeks += 1
                self._rewind()
            return
        ix = self._index
        target_ord = int(ix.packet_of_display[d])
        key_ord = int(ix.start_key[d])
        # Forward when the frame's packet is not yet fed, or was fed during this call (so not skipped
        # if requested) and the frame has not come out yet.
        fed_ok = target_ord >= self._next_ord or target_ord >= self._call_start_ord
        if (
            not attempt
            and not self._exhausted
            and not self._must_seek
            and d > self._frontier
            and key_ord <= self._next_ord
            and fed_ok
        ):
            return
        if attempt >= 3:
            key_ord = 0
        for _ in range(max(attempt - 1, 0)):
            earlier = np.flatnonzero(ix.keyframe[:key_ord])
            key_ord = int(earlier[-1]) if earlier.size else 0
        stats.seeks += 1
        self._seek_to_packet(key_ord, stats)
        self._call_start_ord = min(self._call_start_ord, key_ord)

    def _seek_to_packet(self, key_ord: int, stats: DecodeStats) -> None:
        ix = self._ix
        if self._packets is not None:
            self._reset_decoder()
            self._next_ord = key_ord
            return
        if key_ord == 0:
            self._rewind()
            return
        # Demuxers index by pts (mp4, mkv) or dts (some AVI); MPEG-PS seeks by bisecting bytes and may
        # land early. Whatever lands before the keyframe is skipped without decoding; a landing after it
        # is retried with the other timestamp, then earlier keyframes, then a rewind.
        candidates = []
        for key in np.flatnonzero(ix.keyframe[: key_ord + 1])[::-1][:2]:
            candidates += [int(t) for t in (ix.pts[key], ix.dts[key]) if t != NO_TS]
        for ts in candidates if self._seekable else []:
            self._c.seek(ts, stream=self._stream, backward=True, any_frame=False)
            self._reset_decoder()
            try:
                while True:
                    item = self._read_packet()
                    if item is None or item[0] > key_ord:
                        break  # landed after the keyframe: try an earlier timestamp
                    stats.packets_read += 1
                    if item[0] == key_ord:
                        self._pushback = item
                        self._next_ord = key_ord
                        return
            except _InexactSeek:
                break
        self._rewind()
        while self._next_ord < key_ord:
            if self._read_packet() is None:
                break
            stats.packets_read += 1

    def _reset_decoder(self) -> None:
        self._stream.codec_context.flush_buffers()
        if self._bsf is not None:
            self._bsf.flush()
        self._demux = None
        self._last_out = -1
        self._pushback = None
        self._pending.clear()
        self._exhausted = False
        self._must_seek = False
        self._frontier = -1
        self._out_count = 0
        self._next_ord = 0

    def _rewind(self) -> None:
        """Put demuxer and decoder back at the start of the stream."""
        if self._packets is not None:
            self._reset_decoder()
            return
        if not self._seekable:
            self._open_container()
            return
        try:
            self._c.seek(0)
        except av.error.FFmpegError:
            self._open_container()
            return
        self._reset_decoder()
        try:
            first = self._read_packet()
        except _InexactSeek:
            first = None
        if first is None or first[0] != 0:
            # Seeking to the start is not exact for this file: reopening is.
            self._open_container()
        else:
            self._pushback = first
            self._next_ord = 0

    def _read_packet(self) -> tuple[int, av.Packet] | None:
        if self._packets is not None:
            ordinal = self._next_ord
            if ordinal >= len(self._packets):
                return None
            self._next_ord = ordinal + 1
            return ordinal, self._packets[ordinal]
        if self._pushback is not None:
            item, self._pushback = self._pushback, None
            self._next_ord = item[0] + 1
            return item
        if self._demux is None:
            self._demux = self._demux_filtered()
        ix = self._index
        for packet in self._demux:
            if ix is None:
                ordinal = self._next_ord
            else:
                key = packet.dts if ix.synthetic else packet.pts
                known = None if key is None else self._ord_of_key.get(key)
                if known is None:
                    continue  # a partial packet after an inexact seek: not part of the stream's frames
                ordinal = known
                if packet.size != self._sizes[ordinal]:
                    # Not the packet the index knows under this timestamp: seeking is not exact here.
                    self._seekable = False
                    raise _InexactSeek
                if ix.synthetic:
                    packet.pts = int(ix.ident[ordinal])
            self._next_ord = ordinal + 1
            return ordinal, packet
        return None

    def _demux_filtered(self) -> Iterator[av.Packet]:
        """The video packets as the index saw them: non-empty, through the bitstream filter if any."""
        for packet in self._c.demux(self._stream):
            if packet.size == 0:
                continue
            for out in self._bsf.filter(packet) if self._bsf is not None else (packet,):
                if out.size:
                    yield out
        if self._bsf is not None:
            yield from (out for out in self._bsf.filter(None) if out.size)

    def _to_array(self, frame: av.VideoFrame) -> np.ndarray:
        # One reformatter per reader keeps swscale's context between frames (a fresh one per frame,
        # as ``frame.to_ndarray(format=...)`` makes, costs more than the conversion); same output bytes.
        height, width = self._scaled_size
        if (height, width) == (self.source_height, self.source_width):
            rgb = self._reformatter.reformat(frame, format="rgb24").to_ndarray()
        else:
            rgb = self._reformatter.reformat(
                frame, format="rgb24", width=width, height=height, interpolation="AREA"
            ).to_ndarray()
        if not self.autorotate:
            return rgb
        # The frame's own display matrix is the truth; the container header only told the size early.
        rotation = _quarter_turns(frame.rotation, self.path) * 90
        if rotation != self.rotation:
            self.rotation = rotation
        return np.rot90(rgb, rotation // 90) if rotation else rgb

    def _assemble(self, arrays: list[np.ndarray], layout: Layout) -> torch.Tensor:
        if layout not in ("TCHW", "THWC"):
            raise ValueError(f"layout must be 'TCHW' or 'THWC', got {layout!r}")
        if not arrays:
            shape = (0, 3, self.height, self.width) if layout == "TCHW" else (0, self.height, self.width, 3)
            return torch.empty(shape, dtype=torch.uint8)
        out = torch.from_numpy(np.stack(arrays))
        # TCHW is a view of the THWC buffer (channels-last strides): no copy; torchvision's ops accept it.
        return out.permute(0, 3, 1, 2) if layout == "TCHW" else out

    class _ErrorContext:
        def __init__(self, reader: VideoReader, what: str) -> None:
            self.reader, self.what = reader, what

        def __enter__(self) -> None:
            return None

        def __exit__(self, typ: type | None, exc: BaseException | None, tb: object) -> bool:  # type: ignore[exit-return]
            if exc is None or isinstance(exc, VideoDecodeError):
                return False
            if isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, av.error.FFmpegError):
                return False  # a bad argument, not a bad file
            path = self.reader.path
            if isinstance(exc, TimeoutError):
                raise VideoDecodeError(
                    f"{self.what} of {path!r} stalled and was stopped after {self.reader.timeout:.0f} s: {exc}",
                    path=path,
                    cause="stalled",
                ) from exc
            if isinstance(exc, (av.error.FFmpegError, OSError, EOFError)):
                raise VideoDecodeError(
                    f"cannot {self.what} {path!r}: {exc}; the file is corrupt, truncated or not a video",
                    path=path,
                    cause="undecodable",
                ) from exc
            return False

    def _errors(self, what: str) -> VideoReader._ErrorContext:
        return VideoReader._ErrorContext(self, what)


def _output_size(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    if short_side is None or short_side <= 0 or short_side >= min(height, width):
        return height, width
    if height <= width:
        return short_side, max(1, round(width * short_side / height))
    return max(1, round(height * short_side / width)), short_side


def _quarter_turns(degrees: float, path: str) -> int:
    """Counter-clockwise quarter turns (0-3) of a display rotation; other angles are not applied."""
    turns, rest = divmod(round(degrees), 90)
    if rest:
        if path not in _REPORTED_ROTATIONS:
            _REPORTED_ROTATIONS.add(path)
            logger.warning(
                "%s asks for a display rotation of %s degrees; only quarter turns are applied", path, degrees
            )
        return 0
    return turns % 4


def container_rotation(path: str, container: av.container.InputContainer) -> int:
    """Counter-clockwise display rotation in degrees (0, 90, 180 or 270) that the file's header asks for.

    Read without decoding from the first video track's matrix in MP4/MOV/3GP files (where phones put it);
    other containers report 0 here, and the first decoded frame's own rotation corrects it.
    """
    if "mov" not in container.format.name.split(","):
        return 0
    try:
        matrix = _mov_video_matrix(path)
    except (OSError, struct.error, ValueError):
        return 0
    if matrix is None:
        return 0
    a, b = matrix
    if a == 0 and b == 0:
        return 0
    import math

    degrees = -math.degrees(math.atan2(b, a))
    return _quarter_turns(degrees, path) * 90


def _mov_video_matrix(path: str) -> tuple[float, float] | None:
    """(a, b) of the first video track's ``tkhd`` matrix (enough for its rotation), or None."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size

        def boxes(start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
            pos = start
            while pos + 8 <= end:
                f.seek(pos)
                head = f.read(16)
                box_size, kind = struct.unpack(">I4s", head[:8])
                body = pos + 8
                if box_size == 1:
                    box_size = struct.unpack(">Q", head[8:16])[0]
                    body = pos + 16
                elif box_size == 0:
                    box_size = end - pos
                if box_size < body - pos:
                    return
                yield kind, body, min(pos + box_size, end)
                pos += box_size

        for kind, body, end in boxes(0, size):
            if kind != b"moov":
                continue
            for trak_kind, trak_body, trak_end in boxes(body, end):
                if trak_kind != b"trak":
                    continue
                matrix, is_video = None, False
                for sub, sub_body, sub_end in boxes(trak_body, trak_end):
                    if sub == b"tkhd":
                        f.seek(sub_body)
                        version = f.read(1)[0]
                        f.seek(sub_body + 4 + (32 if version == 1 else 20) + 16)
                        a, b = struct.unpack(">ii", f.read(8))
                        matrix = (a / 65536.0, b / 65536.0)
                    elif sub == b"mdia":
                        for leaf, leaf_body, _ in boxes(sub_body, sub_end):
                            if leaf == b"hdlr":
                                f.seek(leaf_body + 8)
                                is_video = f.read(4) == b"vide"
                if is_video:
                    return matrix
            return None
    return None
