"""A packet index built by demuxing only (no decoding): the map from display order to decode order.

Two sources give the display order:

* the container's presentation timestamps (MP4, Matroska, WebM, MPEG-PS/TS, FLV...), when every packet has
  one and no two share one (:func:`build_index`);
* for AVI, which stores no presentation timestamps (the pts FFmpeg reports there are guesses), the decode
  order itself for codecs that never reorder frames, and the picture types read from the bitstream for
  MPEG-4 Part 2 (XviD, DivX), whose B-frames do (:func:`build_avi_index`).

Either way every packet gets an *identity*: the pts the decoder is fed with it, which the decoder hands back
on the frame that packet yields. For AVI the identity is made up (the container's pts cannot be trusted) and
written onto each packet before it is decoded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from .mpeg4 import B_VOP, I_VOP, Vop


@dataclass(frozen=True)
class PacketIndex:
    """What demuxing the video stream once tells about its frames.

    Arrays indexed by *decode ordinal* (position of a packet in the stream): ``ident`` (the pts the
    decoder is fed with the packet), ``pts``/``dts`` (the container's, ``NO_TS`` where missing),
    ``keyframe`` (packets decoding can start from) and ``durations``. Arrays indexed by *display index*
    (position in a full sequential decode): ``display_ident``, ``display_ts`` (timestamps in the stream's
    time base, for frame times), ``packet_of_display`` and ``start_key`` (the packet to start decoding
    from to get that frame). A packet may yield no frame (a "not coded" MPEG-4 VOP, a B-frame the
    decoder drops for lack of references), so there may be fewer display indices than packets.
    ``synthetic``: the identities were made up and must be written onto packets before decoding.
    """

    ident: np.ndarray
    pts: np.ndarray
    dts: np.ndarray
    keyframe: np.ndarray
    durations: np.ndarray
    display_ident: np.ndarray
    display_ts: np.ndarray
    packet_of_display: np.ndarray
    start_key: np.ndarray
    synthetic: bool = False

    @property
    def num_packets(self) -> int:
        return int(self.ident.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.display_ident.shape[0])


NO_TS = np.iinfo(np.int64).min


@dataclass
class Demuxed:
    """Every packet of the video stream, read once without decoding (see :func:`demux_packets`)."""

    pts: np.ndarray
    dts: np.ndarray
    keyframe: np.ndarray
    durations: np.ndarray
    sizes: np.ndarray
    corrupt: list[int]
    packets: list[av.Packet] | None
    inspected: list[Any] | None


def demux_packets(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    *,
    deadline: float,
    keep_bytes: int = 0,
    bsf: Any = None,
    inspect: Callable[[bytes], Any] | None = None,
) -> Demuxed:
    """Read every packet of ``stream`` (no decoding), through the bitstream filter ``bsf`` when given.

    Returns pts, dts, keyframe flags, durations, sizes, the ordinals of packets the demuxer flagged as
    corrupt (typically cut short by truncation), the packets themselves when they add up to at most
    ``keep_bytes`` (else None) and ``inspect(bytes)`` of each packet when ``inspect`` is given.
    Timestamps a packet lacks are ``NO_TS``. Raises ``TimeoutError`` past ``deadline`` (monotonic).
    """
    pts: list[int] = []
    dts: list[int] = []
    key: list[bool] = []
    dur: list[int] = []
    sizes: list[int] = []
    corrupt: list[int] = []
    kept: list[av.Packet] | None = []
    inspected: list[Any] | None = [] if inspect is not None else None
    total = 0

    def add(packet: av.Packet, damaged: bool) -> None:
        nonlocal kept, total
        if packet.size == 0:
            return
        if kept is not None:
            total += packet.size
            if total > keep_bytes:
                kept = None
            else:
                kept.append(packet)
        if damaged:
            corrupt.append(len(pts))
        if inspected is not None and inspect is not None:
            inspected.append(inspect(bytes(packet)))
        pts.append(NO_TS if packet.pts is None else packet.pts)
        dts.append(NO_TS if packet.dts is None else packet.dts)
        key.append(packet.is_keyframe)
        dur.append(packet.duration or 0)
        sizes.append(packet.size)

    for count, packet in enumerate(container.demux(stream)):
        if packet.size == 0:
            continue
        damaged = packet.is_corrupt
        for out in bsf.filter(packet) if bsf is not None else (packet,):
            add(out, damaged)
        if count % 256 == 0 and time.monotonic() > deadline:
            raise TimeoutError(f"demuxing stalled after {count} packets")
    if bsf is not None:
        for out in bsf.filter(None):
            add(out, False)
    return Demuxed(
        pts=np.asarray(pts, dtype=np.int64),
        dts=np.asarray(dts, dtype=np.int64),
        keyframe=np.asarray(key, dtype=bool),
        durations=np.asarray(dur, dtype=np.int64),
        sizes=np.asarray(sizes, dtype=np.int64),
        corrupt=corrupt,
        packets=kept,
        inspected=inspected,
    )


def riff_truncated(path: str) -> bool:
    """True when a RIFF (AVI) file is shorter than the size its header declares."""
    import os
    import struct

    with open(path, "rb") as f:
        head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF":
        return False
    return struct.unpack("<I", head[4:8])[0] + 8 > os.path.getsize(path)


def build_index(
    pts: np.ndarray, dts: np.ndarray, keyframe: np.ndarray, durations: np.ndarray
) -> PacketIndex | None:
    """Build the display-order index from the container's pts, or return None when they cannot identify
    frames (a packet without one, or two sharing one); the caller then counts frames by decoding."""
    n = pts.shape[0]
    if n == 0 or (pts == NO_TS).any() or np.unique(pts).shape[0] != n:
        return None
    keyframe = _first_is_entry(keyframe)
    packet_of_display = np.argsort(pts, kind="stable")
    display_pts = pts[packet_of_display]
    key_ord = np.flatnonzero(keyframe)
    key_pts = pts[key_ord]
    # Entry keyframe of a frame: the last keyframe at or before it in decode order whose pts is not
    # after the frame's pts. The pts condition excludes open-GOP leading pictures, which reference
    # frames before their keyframe and so need the previous keyframe.
    j = np.searchsorted(key_ord, packet_of_display, side="right") - 1
    bad = key_pts[j] > display_pts
    while bad.any():
        j[bad] -= 1
        j = np.maximum(j, 0)
        bad = (key_pts[j] > display_pts) & (j > 0)
    return PacketIndex(
        ident=pts,
        pts=pts,
        dts=dts,
        keyframe=keyframe,
        durations=durations,
        display_ident=display_pts,
        display_ts=display_pts,
        packet_of_display=packet_of_display,
        start_key=key_ord[j],
    )


def build_avi_index(
    pts: np.ndarray,
    dts: np.ndarray,
    keyframe: np.ndarray,
    durations: np.ndarray,
    vops: list[list[Vop] | None] | None,
) -> PacketIndex | None:
    """Build the index of an AVI stream, whose packets carry only decode timestamps.

    ``vops`` None: the codec never reorders, so display order is decode order. Otherwise ``vops`` holds the
    MPEG-4 Part 2 VOPs of each packet (after unpacking packed B-frames, exactly one per packet), and the
    display order is the one FFmpeg's MPEG-4 decoder outputs: a B-VOP as soon as it is decoded (dropped
    when no older reference exists yet), a reference VOP (I, P, S) when the next one arrives, a "not coded"
    VOP never. Returns None when the packets cannot be ordered this way.
    """
    n = dts.shape[0]
    if n == 0 or (dts == NO_TS).any() or np.unique(dts).shape[0] != n or (np.diff(dts) <= 0).any():
        return None
    if vops is None:
        order = np.arange(n)
        keyframe = _first_is_entry(keyframe)
        start_key = np.maximum.accumulate(np.where(keyframe, np.arange(n), 0))
    else:
        if len(vops) != n or any(v is None or len(v) != 1 for v in vops):
            return None
        types = [v[0] for v in vops]  # type: ignore[index]
        keyframe = np.array([v.coded and v.coding_type == I_VOP for v in types], dtype=bool)
        if not keyframe.any():
            return None
        order_list, entry_list = _mpeg4_output_order(types, keyframe)
        order = np.asarray(order_list, dtype=np.int64)
        start_key = np.asarray(entry_list, dtype=np.int64)
    # Identities: a frame's is its display index; a packet without a frame gets a negative one.
    ident = -1 - np.arange(n, dtype=np.int64)
    ident[order] = np.arange(order.shape[0])
    # Display times: AVI gives each packet one tick of a constant rate, and the frames shown are those
    # ticks in increasing order (dropped frames leave their tick out).
    display_ts = np.sort(dts[order])
    return PacketIndex(
        ident=ident,
        pts=pts,
        dts=dts,
        keyframe=keyframe,
        durations=durations,
        display_ident=ident[order],
        display_ts=display_ts,
        packet_of_display=order,
        start_key=start_key,
        synthetic=True,
    )


def _mpeg4_output_order(types: list[Vop], keyframe: np.ndarray) -> tuple[list[int], list[int]]:
    """Decode ordinals in the order a full decode outputs their frames, and the packet to enter at for each."""
    order: list[int] = []
    entry: list[int] = []
    last_key = -1
    older = newer = -1  # the two most recent reference VOPs, in decode order
    newer_entry = older_entry = -1  # the keyframe each was reached from
    for k, vop in enumerate(types):
        if not vop.coded:
            continue
        if keyframe[k]:
            last_key = k
        if vop.coding_type == B_VOP:
            if older < 0:
                continue  # no forward reference: FFmpeg drops the B-frame
            order.append(k)
            entry.append(older_entry)  # both references must be decoded: enter before the older one
            continue
        if newer >= 0:
            order.append(newer)
            entry.append(newer_entry)
        older, older_entry = newer, newer_entry
        newer, newer_entry = k, last_key
    if newer >= 0:
        order.append(newer)
        entry.append(newer_entry)
    return order, entry


def _first_is_entry(keyframe: np.ndarray) -> np.ndarray:
    # A stream that does not start on a keyframe still decodes from its first packet in a sequential
    # decode; treat that packet as the entry point so the two agree.
    if keyframe.shape[0] and not keyframe[0]:
        keyframe = keyframe.copy()
        keyframe[0] = True
    return keyframe
