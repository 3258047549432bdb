"""Write a copy of a video with predicted labels drawn on every frame (``action-run predict --out-video``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

__all__ = ["write_overlay_video"]

# Audio codecs the MP4/Matroska muxers take as they are; any other audio is re-encoded to AAC.
_COPYABLE_AUDIO = {"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"}


def write_overlay_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    predictions: Sequence[tuple[str, float]],
    *,
    codec: str = "libx264",
    font_size: int = 0,
    min_side: int = 256,
    lines_at: Callable[[float], Sequence[str]] | None = None,
) -> Path:
    """Re-encode ``src`` to ``dst`` with the ``(label, score)`` lines drawn in the top-left corner.

    ``lines_at`` (a frame's time in seconds from the first frame → the lines to draw on it) draws labels
    that change over time instead (the long-video timeline); ``predictions`` are then ignored.

    Uses PyAV for decoding/encoding and Pillow for text. Every frame keeps its timestamp (so variable frame
    rate video keeps its duration), the first audio track is carried over (copied, or re-encoded to AAC
    when the output container cannot hold it), and frames are written as displayed: a phone clip's display
    rotation is applied. ``font_size`` 0 scales the text with the frame height. Videos whose shorter side is
    below ``min_side`` are upscaled (nearest neighbour) so the labels stay legible. The output is written to
    a temporary name and renamed when done.
    """
    import av

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp{dst.suffix}")
    lines = [f"{label}: {score:.3f}" for label, score in predictions]
    try:
        with av.open(str(src)) as source, av.open(str(tmp), mode="w") as sink:
            in_video = source.streams.video[0]
            in_audio = source.streams.audio[0] if source.streams.audio else None
            audio = _AudioOut(sink, in_audio) if in_audio is not None else None
            video = _VideoOut(sink, in_video, codec, lines, font_size, min_side, then=audio)
            video.lines_at = lines_at
            streams = [in_video] + ([in_audio] if in_audio is not None else [])
            waiting: list[Any] = []  # audio read before the first picture fixed the video stream's size
            for packet in source.demux(*streams):
                if packet.stream is in_video:
                    for frame in packet.decode():
                        video.write(frame)
                elif audio is not None:
                    waiting.append(packet)
                if video.stream is not None and waiting and audio is not None:
                    for early in waiting:
                        audio.write(early)
                    waiting.clear()
            video.close()
            if audio is not None:
                for early in waiting:
                    audio.write(early)
                audio.close()
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dst


class _VideoOut:
    """The labelled video stream: opened at the first frame, whose rotation fixes the output size."""

    def __init__(
        self,
        sink: Any,
        source: Any,
        codec: str,
        lines: list[str],
        font_size: int,
        min_side: int,
        then: _AudioOut | None,
    ) -> None:
        self.then = then  # the audio stream, added right after this one and before anything is written
        self.sink, self.source, self.codec = sink, source, codec
        self.lines, self.font_size, self.min_side = lines, font_size, min_side
        self.stream: Any = None
        self.last_pts: int | None = None
        self.count = 0
        self.lines_at: Callable[[float], Sequence[str]] | None = None
        self.first_pts: int | None = None

    def _open(self, width: int, height: int) -> None:
        from PIL import ImageFont

        rate = self.source.average_rate or 25
        self.stream = self.sink.add_stream(self.codec, rate=rate)
        self.scale = max(1, -(-self.min_side // min(width, height)))
        self.stream.width = width * self.scale // 2 * 2
        self.stream.height = height * self.scale // 2 * 2
        self.stream.pix_fmt = "yuv420p"
        # Frames keep the source's timestamps: the encoder counts in the source's time base.
        self.time_base = self.source.time_base or Fraction(1, int(rate))
        self.stream.codec_context.time_base = self.time_base
        self.stream.time_base = self.time_base
        self.text_size = self.font_size or max(10, self.stream.height // 18)
        self.font = ImageFont.load_default(size=self.text_size)
        if self.then is not None:
            self.then.open()

    def write(self, frame: Any) -> None:
        import av
        from PIL import Image, ImageDraw

        image = frame.to_image()
        turns = round(frame.rotation) // 90 % 4
        if turns:
            image = image.transpose(
                [None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270][
                    turns
                ]
            )
        if self.stream is None:
            self._open(*image.size)
        if self.scale > 1:
            image = image.resize(
                (image.width * self.scale, image.height * self.scale), Image.Resampling.NEAREST
            )
        image = image.crop((0, 0, self.stream.width, self.stream.height))
        draw = ImageDraw.Draw(image)
        size = self.text_size
        lines = self.lines if self.lines_at is None else self.lines_at(self._seconds(frame))
        for row, text in enumerate(lines):
            xy = (size // 2, size // 2 + row * int(size * 1.3))
            draw.text(xy, text, font=self.font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
        out = av.VideoFrame.from_image(image)
        pts = frame.pts
        if pts is None or (self.last_pts is not None and pts <= self.last_pts):
            # No usable timestamp (raw streams, broken files): one frame interval after the last one.
            step = max(1, round(1 / (float(self.time_base) * float(self.source.average_rate or 25))))
            pts = self.count * step if self.last_pts is None else self.last_pts + step
        out.pts, out.time_base = pts, self.time_base
        self.last_pts = pts
        self.count += 1
        for packet in self.stream.encode(out):
            self.sink.mux(packet)

    def _seconds(self, frame: Any) -> float:
        """The frame's time from the first frame (frame count / rate when it has no timestamp)."""
        if frame.pts is None:
            return self.count / float(self.source.average_rate or 25)
        if self.first_pts is None:
            self.first_pts = frame.pts
        return float((frame.pts - self.first_pts) * self.time_base)

    def close(self) -> None:
        if self.stream is not None:
            for packet in self.stream.encode():
                self.sink.mux(packet)


class _AudioOut:
    """The first audio track: copied packet for packet where the container takes it, else made AAC."""

    def __init__(self, sink: Any, source: Any) -> None:
        self.sink, self.source = sink, source
        self.copy = source.codec_context.name in _COPYABLE_AUDIO
        self.stream: Any = None
        self.resampler: Any = None

    def open(self) -> None:
        """Add the output audio stream."""
        if self.copy:
            self.stream = self.sink.add_stream_from_template(self.source)
            self.stream.time_base = self.source.time_base
        else:
            self.stream = self.sink.add_stream("aac", rate=self.source.codec_context.sample_rate or 44100)

    def write(self, packet: Any) -> None:
        if self.stream is None:
            self.open()
        if self.copy:
            if packet.dts is None:
                return  # the demuxer's end-of-stream marker
            packet.stream = self.stream
            self.sink.mux(packet)
            return
        for frame in packet.decode():
            self._encode(frame)

    def _encode(self, frame: Any) -> None:
        import av

        if self.resampler is None:
            layout = self.stream.codec_context.layout.name if self.stream.codec_context.layout else "stereo"
            self.resampler = av.AudioResampler(
                format=self.stream.codec_context.format.name,
                layout=layout,
                rate=self.stream.codec_context.rate,
            )
        for converted in self.resampler.resample(frame):
            converted.pts = None
            for packet in self.stream.encode(converted):
                self.sink.mux(packet)

    def close(self) -> None:
        if self.stream is not None and not self.copy:
            if self.resampler is not None:
                for converted in self.resampler.resample(None):
                    converted.pts = None
                    for packet in self.stream.encode(converted):
                        self.sink.mux(packet)
            for packet in self.stream.encode():
                self.sink.mux(packet)
