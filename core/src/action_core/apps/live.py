"""Labels on a live stream: a camera, a network stream, or a file played at its own pace.

A reader thread decodes the source (:class:`~action_core.video.stream.FrameStream`) into a ring buffer
that holds the last window of frames; it never waits for the model. The predictor takes the newest window
whenever a new frame has arrived and at most ``rate`` times a second, and runs it through the Inferencer;
frames that came and went between two predictions are dropped (counted), so the labels never fall behind
the stream. Each label reports its latency: seconds from the arrival of the newest frame it includes.

The run stops at the end of the stream, after ``max_seconds`` of stream time, or on Ctrl-C, with its
outputs complete (the JSON lines written, the annotated video closed); a lost connection or a stream that
stalls for ``timeout`` seconds stops it too and is reported as :class:`~action_core.video.stream.StreamError`
after the outputs are closed.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import statistics
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from action_core.errors import ConfigError

if TYPE_CHECKING:
    from action_core.engine.inferencer import Inferencer, Prediction
    from action_core.video.stream import StreamFrame

__all__ = ["LiveSummary", "run_live"]


@attrs.frozen
class LiveSummary:
    """What a live run saw: ``frames`` read, ``predictions`` made, ``dropped`` frames (never inside a
    predicted window), ``frame_latency`` median and 90th percentile (seconds from a frame's arrival to the
    first label whose window includes it), ``stop`` (why it ended), ``seconds`` of wall time, and the
    stream error that ended it, if any."""

    source: str
    frames: int
    predictions: int
    dropped: int
    frame_latency_median: float | None
    frame_latency_p90: float | None
    stop: str
    seconds: float
    error: BaseException | None = attrs.field(default=None, eq=False)

    def __str__(self) -> str:
        latency = (
            "-"
            if self.frame_latency_median is None
            else f"{self.frame_latency_median:.3f} s median, {self.frame_latency_p90:.3f} s p90"
        )
        return (
            f"{self.source}: {self.stop}; {self.frames} frames in {self.seconds:.1f} s, {self.predictions} "
            f"predictions, {self.dropped} frames dropped; frame-to-label latency {latency}"
        )


class _Ring:
    """The last ``length`` frames, shared by the reader thread and the predictor."""

    def __init__(self, length: int) -> None:
        self.frames: collections.deque[StreamFrame] = collections.deque(maxlen=length)
        self.changed = threading.Condition()
        self.finished = False
        self.error: BaseException | None = None

    def put(self, frame: StreamFrame) -> None:
        with self.changed:
            self.frames.append(frame)
            self.changed.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self.changed:
            self.finished = True
            self.error = error
            self.changed.notify_all()


class _AnnotatedWriter:
    """The stream with the current labels drawn on it, encoded on its own thread; frames that arrive
    while it is busy are dropped from the output (counted), never delaying the reader."""

    def __init__(self, path: Path, fps: float, latest: Callable[[], list[str]]) -> None:
        self.path, self.fps, self.latest = path, fps, latest
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=max(4, round(fps)))
        self.dropped = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="action-live-writer", daemon=True)
        self.thread.start()

    def offer(self, frame: StreamFrame) -> None:
        try:
            self.queue.put_nowait((frame.frame, frame.time, self.latest()))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        import av
        from PIL import ImageDraw, ImageFont

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with av.open(str(self.path), mode="w") as sink:
                stream = None
                time_base = Fraction(1, 1000)
                last_pts = -1
                font = None
                while True:
                    item = self.queue.get()
                    if item is None:
                        break
                    frame, seconds, lines = item
                    image = frame.to_image()
                    if stream is None:
                        stream = sink.add_stream("libx264", rate=round(self.fps) or 25)
                        stream.width, stream.height = image.width // 2 * 2, image.height // 2 * 2
                        stream.pix_fmt = "yuv420p"
                        stream.options = {"preset": "veryfast", "tune": "zerolatency"}
                        stream.codec_context.time_base = time_base
                        stream.time_base = time_base
                        font = ImageFont.load_default(size=max(10, stream.height // 18))
                    image = image.crop((0, 0, stream.width, stream.height))
                    draw = ImageDraw.Draw(image)
                    size = max(10, stream.height // 18)
                    for row, text in enumerate(lines):
                        xy = (size // 2, size // 2 + row * int(size * 1.3))
                        draw.text(
                            xy, text, font=font, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0)
                        )
                    out = av.VideoFrame.from_image(image)
                    pts = max(last_pts + 1, round(seconds / time_base))
                    out.pts, out.time_base, last_pts = pts, time_base, pts
                    for packet in stream.encode(out):
                        sink.mux(packet)
                if stream is not None:
                    for packet in stream.encode():
                        sink.mux(packet)
        except BaseException as e:  # raised by close(), in the caller's thread
            self.error = e
            while True:  # keep draining so offer() never blocks the reader
                try:
                    if self.queue.get(timeout=1) is None:
                        return
                except queue.Empty:
                    continue


def _format(prediction: Prediction) -> str:
    labels = " | ".join(f"{c.label} {c.score:.2f}" for c in prediction.top_k)
    latency = "" if prediction.latency is None else f"  latency {prediction.latency:.2f} s"
    return f"{prediction.end:9.2f} s  {labels}{latency}"


def run_live(
    inferencer: Inferencer,
    source: str,
    *,
    window: str | int | None = None,
    rate: float = 4.0,
    realtime: bool = False,
    timeout: float = 10.0,
    max_seconds: float | None = None,
    top_k: int = 3,
    out_jsonl: str | os.PathLike[str] | None = None,
    out_video: str | os.PathLike[str] | None = None,
    format: str | None = None,
    options: dict[str, str] | None = None,
    echo: Callable[[str], None] | None = print,
) -> LiveSummary:
    """Predict on ``source`` as it arrives (see the module documentation) and return what happened; a lost
    connection or a stall raises :class:`~action_core.video.stream.StreamError` after the outputs are
    closed (the summary is then on the error's ``summary`` attribute).

    ``window``: frames (``16``) or seconds (``"2s"``), default as for the timeline. ``rate``: most
    predictions per second. ``realtime``: pace a file at its frame rate, as a camera would deliver it
    (without it a file is read as fast as it decodes and the predictor samples it). ``echo``: called with
    one line per prediction (``None``: quiet)."""
    from action_core.apps.timeline import default_window, parse_span
    from action_core.engine.inferencer import FrameWindow
    from action_core.video.stream import FrameStream

    if rate <= 0:
        raise ConfigError(f"--rate {rate}: give the most predictions per second, > 0")
    if max_seconds is not None and max_seconds <= 0:
        raise ConfigError(f"--max-seconds {max_seconds}: give a duration > 0")
    stream = FrameStream(source, timeout=timeout, realtime=realtime, format=format, options=options)
    fps = stream.fps
    length = parse_span(window, fps) if window is not None else default_window(inferencer.pipeline_steps, fps)
    ring = _Ring(length)
    stop = threading.Event()
    current: list[str] = []
    jsonl: IO[str] | None = None
    writer: _AnnotatedWriter | None = None
    short_side = inferencer.short_side

    ended = {"why": "end of stream"}

    def read() -> None:
        try:
            for frame in stream:
                if stop.is_set():
                    break
                if max_seconds is not None and frame.time >= max_seconds:
                    ended["why"] = f"--max-seconds {max_seconds:g} reached"
                    break
                ring.put(frame)
                if writer is not None:
                    writer.offer(frame)
            ring.finish()
        except BaseException as e:  # handed to the predictor
            ring.finish(e)

    started = time.monotonic()
    if out_jsonl is not None:
        Path(out_jsonl).parent.mkdir(parents=True, exist_ok=True)
        jsonl = open(out_jsonl, "w", encoding="utf-8")  # noqa: SIM115 - closed in finally
    if out_video is not None:
        writer = _AnnotatedWriter(Path(out_video), fps, lambda: list(current))
    reader = threading.Thread(target=read, name="action-live-reader", daemon=True)
    reader.start()
    latencies: collections.deque[float] = collections.deque(maxlen=200_000)
    predictions = 0
    dropped = 0
    last_index = -1
    next_allowed = 0.0
    stop_reason = ""
    error: BaseException | None = None
    try:
        while True:
            with ring.changed:
                while not ring.finished and not (
                    len(ring.frames) >= length and ring.frames[-1].index > last_index
                ):
                    ring.changed.wait(timeout=0.2)
                fresh = bool(ring.frames) and ring.frames[-1].index > last_index
                if ring.finished and not fresh:
                    error = ring.error
                    break
                members = list(ring.frames)
            wait = next_allowed - time.monotonic()
            if wait > 0 and not ring.finished:
                time.sleep(wait)
                with ring.changed:
                    members = list(ring.frames)  # the newest window after waiting
            begun = time.monotonic()
            next_allowed = begun + 1.0 / rate
            first_new = max(last_index + 1, members[0].index)
            dropped += first_new - (last_index + 1)
            window_ = FrameWindow(
                members,
                fps=fps,
                start=members[0].time,
                end=members[-1].time + 1.0 / fps,
                source=source,
                to_rgb=lambda f: f.rgb(short_side),
                arrival=members[-1].arrival,
            )
            prediction = next(iter(inferencer.predict_windows([window_], batch_size=1, top_k=top_k)))
            done = time.monotonic()
            latencies.extend(done - f.arrival for f in members if f.index >= first_new)
            last_index = members[-1].index
            predictions += 1
            current[:] = [f"{c.label}: {c.score:.2f}" for c in prediction.top_k] + [
                f"latency {prediction.latency:.2f} s"
            ]
            if echo is not None:
                echo(_format(prediction))
            if jsonl is not None:
                row = prediction.as_dict()
                row.pop("source", None)
                row["time"] = row["end"]
                row["wall"] = round(time.time(), 3)
                jsonl.write(json.dumps(row) + "\n")
                jsonl.flush()
    except KeyboardInterrupt:
        stop_reason = "stopped (Ctrl-C)"
    finally:
        stop.set()
        stream.close()
        reader.join(timeout=max(5.0, timeout))
        if jsonl is not None:
            jsonl.close()
        if writer is not None:
            writer.close()
    if error is not None:
        stop_reason = f"stopped: {error}"
    stop_reason = stop_reason or ended["why"]
    ordered = sorted(latencies)
    summary = LiveSummary(
        source=source,
        frames=stream.frames_read,
        predictions=predictions,
        dropped=dropped,
        frame_latency_median=statistics.median(ordered) if ordered else None,
        frame_latency_p90=ordered[int(0.9 * (len(ordered) - 1))] if ordered else None,
        stop=stop_reason,
        seconds=time.monotonic() - started,
        error=error,
    )
    if error is not None:
        error.summary = summary  # type: ignore[attr-defined]
        raise error
    return summary
