"""Helpers of the action-serve tests: clips and bad files to upload, folder listings."""

from __future__ import annotations

import os
from pathlib import Path

CLASSES = ["move_left", "move_right", "move_up", "move_down"]


def motion_clip(
    path: Path, *, seconds: float = 4.0, fps: int = 8, size: int = 64, motion: str = "move_left"
) -> Path:
    """A synthetic-motion clip (action-synthetic's renderer) of ``seconds`` at ``fps``."""
    from action_synthetic.generate import MotionDatasetConfig, encode_video, render_video_frames

    config = MotionDatasetConfig(classes=tuple(CLASSES), size=size, num_frames=round(seconds * fps), fps=fps)
    path.write_bytes(encode_video(render_video_frames(config, motion, 0), fps=fps))
    return path


def files_under(folder: Path) -> list[str]:
    """Every file and folder below ``folder``, relative, sorted."""
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, dirs, files in os.walk(folder) for name in dirs + files)  # fmt: skip


BOUNDARY = "serve-test-boundary-7d1f"


def multipart(filename: bytes, content: bytes, *, field: bytes = b"file") -> tuple[bytes, dict[str, str]]:
    """A ``multipart/form-data`` body written byte for byte (clients rewrite some file names; the tests need
    exactly the name given) and its headers."""
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="' + field + b'"; filename="' + filename + b'"\r\n'
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )  # fmt: skip
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The first ``keep`` of a file's bytes."""
    return data[: int(len(data) * keep)]


def faststart_copy(src: Path, dst: Path) -> Path:
    """``src`` remuxed with its index at the front (``movflags=faststart``), as phones and web exports write
    it: cutting such a file keeps an index that promises frames the file no longer holds."""
    import av

    with av.open(str(src)) as source, av.open(str(dst), "w", options={"movflags": "faststart"}) as sink:
        stream_in = source.streams.video[0]
        stream_out = sink.add_stream_from_template(stream_in)
        for packet in source.demux(stream_in):
            if packet.dts is None:
                continue
            packet.stream = stream_out
            sink.mux(packet)
    return dst
