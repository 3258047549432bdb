"""Just enough of MPEG-4 Part 2 (ISO/IEC 14496-2) headers to know each packet's picture type.

AVI stores no presentation timestamps, so for MPEG-4 Part 2 (XviD, DivX 4/5) with B-frames the display order
of packets is not in the container. It follows from the picture types in the bitstream: a B-VOP is shown
as soon as it is decoded, a reference VOP (I, P or S) once the next reference VOP arrives. Reading the types
costs a few bytes per packet, no decoding.
"""

from __future__ import annotations

from typing import NamedTuple

VOP_START = b"\x00\x00\x01\xb6"
I_VOP, P_VOP, B_VOP, S_VOP = 0, 1, 2, 3


class Vop(NamedTuple):
    """One video object plane: its coding type (``I_VOP``...``S_VOP``) and whether it is coded."""

    coding_type: int
    coded: bool


class _Bits:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.bit = data, pos * 8

    def read(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.bit >> 3
            if byte >= len(self.data):
                raise EOFError("header runs past the end of the packet")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.bit & 7))) & 1)
            self.bit += 1
        return value


def time_increment_bits(data: bytes) -> int | None:
    """Bits of ``vop_time_increment``, from the first video object layer header in ``data`` (extradata or
    a keyframe packet), or None when there is none or it cannot be read."""
    pos = 0
    while True:
        pos = data.find(b"\x00\x00\x01", pos)
        if pos < 0 or pos + 4 > len(data):
            return None
        code = data[pos + 3]
        pos += 4
        if 0x20 <= code <= 0x2F:
            break
    bits = _Bits(data, pos)
    try:
        bits.read(1)  # random_accessible_vol
        bits.read(8)  # video_object_type_indication
        verid = 1
        if bits.read(1):  # is_object_layer_identifier
            verid = bits.read(4)
            bits.read(3)
        if bits.read(4) == 15:  # aspect_ratio_info: extended PAR
            bits.read(16)
        if bits.read(1):  # vol_control_parameters
            bits.read(3)  # chroma_format, low_delay
            if bits.read(1):  # vbv_parameters
                bits.read(15 + 1 + 15 + 1 + 15 + 1 + 3 + 11 + 1 + 15 + 1)
        shape = bits.read(2)
        if shape == 3 and verid != 1:
            bits.read(4)
        bits.read(1)  # marker
        resolution = bits.read(16)
    except EOFError:
        return None
    if resolution == 0:
        return None
    return max((resolution - 1).bit_length(), 1)


def parse_vops(packet: bytes, time_bits: int) -> list[Vop] | None:
    """Every VOP in ``packet`` in bitstream order, or None when a VOP header cannot be read."""
    vops: list[Vop] = []
    pos = packet.find(VOP_START)
    while pos >= 0:
        bits = _Bits(packet, pos + 4)
        try:
            coding_type = bits.read(2)
            while bits.read(1):  # modulo_time_base
                pass
            if not bits.read(1):  # marker
                return None
            bits.read(time_bits)
            if not bits.read(1):  # marker
                return None
            coded = bool(bits.read(1))
        except EOFError:
            return None
        vops.append(Vop(coding_type, coded))
        pos = packet.find(VOP_START, pos + 4)
    return vops


class Mpeg4VopReader:
    """Reads the VOPs of successive packets of one stream, learning the width of ``vop_time_increment``
    from the stream's video object layer header (in the extradata, or in a packet before the VOPs)."""

    def __init__(self, extradata: bytes | None) -> None:
        self.time_bits = time_increment_bits(extradata) if extradata else None

    def __call__(self, packet: bytes) -> list[Vop] | None:
        first_vop = packet.find(VOP_START)
        if first_vop != 0:
            bits = time_increment_bits(packet if first_vop < 0 else packet[:first_vop])
            if bits is not None:
                self.time_bits = bits
        if self.time_bits is None:
            return None
        return parse_vops(packet, self.time_bits)
