"""A packet index built by demuxing only (no decoding): the map from display order to decode order."""

from __future__ import annotations

import time
from dataclasses import dataclass

import av
import numpy as np


@dataclass(frozen=True)
class PacketIndex:
    """What demuxing the video stream once tells about its frames.

    Arrays indexed by *decode ordinal* (position of a packet in the stream) are ``pts``, ``dts``,
    ``keyframe``; arrays indexed by *display index* (position in a full sequential decode) are
    ``display_pts``, ``packet_of_display`` and ``start_key``. The display order is the order of the
    packets' presentation timestamps, which is the order a decoder outputs frames in.
    """

    pts: np.ndarray
    dts: np.ndarray
    keyframe: np.ndarray
    durations: np.ndarray
    display_pts: np.ndarray
    packet_of_display: np.ndarray
    start_key: np.ndarray

    @property
    def num_packets(self) -> int:
        return int(self.pts.shape[0])


NO_TS = np.iinfo(np.int64).min


def demux_packets(
    container: av.container.InputContainer, stream: av.VideoStream, *, deadline: float, keep_bytes: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[int], list[av.Packet] | None]:
    """Read every packet of ``stream`` (no decoding) and return pts, dts, keyframe flags, durations,
    sizes, the ordinals of packets the demuxer flagged as corrupt (typically cut short by truncation),
    and the packets themselves when they add up to at most ``keep_bytes`` (else None).

    Timestamps a packet lacks are ``NO_TS``. Raises ``TimeoutError`` past ``deadline`` (monotonic).
    """
    pts, dts, key, dur, sizes, corrupt = [], [], [], [], [], []
    kept: list[av.Packet] | None = []
    total = 0
    for count, packet in enumerate(container.demux(stream)):
        if packet.size == 0:
            continue
        if kept is not None:
            total += packet.size
            if total > keep_bytes:
                kept = None
            else:
                kept.append(packet)
        if packet.is_corrupt:
            corrupt.append(len(pts))
        pts.append(NO_TS if packet.pts is None else packet.pts)
        dts.append(NO_TS if packet.dts is None else packet.dts)
        key.append(packet.is_keyframe)
        dur.append(packet.duration or 0)
        sizes.append(packet.size)
        if count % 256 == 0 and time.monotonic() > deadline:
            raise TimeoutError(f"demuxing stalled after {count} packets")
    return (
        np.asarray(pts, dtype=np.int64),
        np.asarray(dts, dtype=np.int64),
        np.asarray(key, dtype=bool),
        np.asarray(dur, dtype=np.int64),
        np.asarray(sizes, dtype=np.int64),
        corrupt,
        kept,
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
    """Build the display-order index, or return None when timestamps cannot identify frames.

    Frames can be identified by pts only when every packet has one and no two share one; otherwise
    the caller must fall back to counting frames in a sequential decode.
    """
    n = pts.shape[0]
    if n == 0 or (pts == NO_TS).any() or np.unique(pts).shape[0] != n:
        return None
    if not keyframe[0]:
        # A stream that does not start on a keyframe still decodes from its first packet in a
        # sequential decode; treat that packet as the entry point so the two agree.
        keyframe = keyframe.copy()
        keyframe[0] = True
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
    start_key = key_ord[j]
    return PacketIndex(
        pts=pts,
        dts=dts,
        keyframe=keyframe,
        durations=durations,
        display_pts=display_pts,
        packet_of_display=packet_of_display,
        start_key=start_key,
    )
