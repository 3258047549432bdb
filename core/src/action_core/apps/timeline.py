"""Labels over time in a long video: sliding windows, per-window top-k, smoothing, segments.

The video is decoded once, in order (:class:`~action_core.video.stream.FrameStream`), and a ring buffer
keeps the last window's frames only, so memory does not grow with the length of the video. Every
``stride`` frames the buffer's ``window`` frames go through the model's own test pipeline (its sampler
picks frames inside the window; only those are converted to RGB) and the Inferencer's prediction step.
When the last window does not reach the end, one more window ends at the last frame.

Each window's probabilities belong to the stretch of time around its centre (half-way to the neighbouring
windows' centres; the first stretch starts at 0, the last ends at the end of the video). They are smoothed
with a centred moving average over ``smooth`` windows, and per class the stretches whose smoothed score
reaches the class's threshold become segments: neighbours closer than ``merge_gap`` seconds are merged,
segments shorter than ``min_length`` seconds dropped; a segment's score is the mean smoothed score over it.

:meth:`Timeline.to_dict` is the documented JSON document (``schema`` ``"action-timeline/1"``, see
``docs/apps.md``); :meth:`Timeline.plot` draws the class score curves with the segments (matplotlib,
core's ``plots`` extra); :func:`write_timeline_video` writes a copy of the video with the labels of each
moment drawn on it.
"""

from __future__ import annotations

import collections
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from action_core.errors import ConfigError

if TYPE_CHECKING:
    from action_core.engine.inferencer import FrameWindow, Inferencer
    from action_core.video.stream import StreamFrame

__all__ = [
    "SCHEMA",
    "Timeline",
    "TimelineSegment",
    "auto_views",
    "default_window",
    "find_segments",
    "make_timeline",
    "parse_span",
    "parse_thresholds",
    "sliding_windows",
    "smooth_scores",
    "write_timeline_video",
]

SCHEMA = "action-timeline/1"
_SPAN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|f|frames?)?\s*$", re.IGNORECASE)


def parse_span(text: str | int | float, fps: float, *, what: str = "window") -> int:
    """A length in frames from ``"16"`` / ``"16f"`` (frames), ``"2s"`` / ``"2.5s"`` (seconds, at ``fps``) or
    ``"500ms"``; at least one frame."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)
    match = _SPAN.match(str(text))
    if match is None:
        raise ConfigError(f"--{what} {text!r} is not a length: give frames (16) or seconds (2s, 0.5s, 500ms)")
    value, unit = float(match.group(1)), (match.group(2) or "").lower()
    if unit in ("", "f", "frame", "frames"):
        if value != int(value):
            raise ConfigError(f"--{what} {text!r}: a number of frames is a whole number; use 's' for seconds")
        frames = int(value)
    else:
        seconds = value / 1000 if unit == "ms" else value
        frames = round(seconds * fps)
    if frames < 1:
        raise ConfigError(f"--{what} {text!r} is shorter than one frame at {fps:g} fps")
    return frames


def _sampler_step(steps: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((s for s in steps if "clip_len" in s), None)


def default_window(steps: Sequence[Mapping[str, Any]], fps: float) -> int:
    """Window length in frames when none is given: one clip of the model's sampler (``clip_len`` x
    ``frame_interval`` frames) for clip models; 2 s for segment models (one frame per segment, any span)."""
    sampler = _sampler_step(steps)
    if sampler is not None and int(sampler.get("clip_len", 1)) > 1:
        return int(sampler["clip_len"]) * int(sampler.get("frame_interval", 1) or 1)
    return max(1, round(2.0 * fps))


def auto_views(steps: Sequence[Mapping[str, Any]]) -> str | None:
    """Views for windows when none are given: a clip model's test pipeline spreads several clips over a
    whole video, but a window is one clip long, so one clip per window (crops kept); ``None`` (the test
    pipeline as it is) otherwise."""
    sampler = _sampler_step(steps)
    if sampler is None or int(sampler.get("clip_len", 1)) <= 1 or int(sampler.get("num_clips", 1)) <= 1:
        return None
    crops = {"ThreeCrop": 3, "TenCrop": 10}
    crop = next((crops[s["type"]] for s in steps if s.get("type") in crops), 1)
    return f"1x{crop}"


def parse_thresholds(values: Sequence[str] | float | None, classes: Sequence[str]) -> np.ndarray:
    """Per-class thresholds (K,) from ``["0.5", "walk=0.7"]``: a bare number sets every class, ``LABEL=V``
    one class (default 0.5)."""
    out = np.full(len(classes), 0.5, dtype=np.float64)
    if values is None:
        return out
    if isinstance(values, (int, float)):
        values = [str(values)]
    index = {c: i for i, c in enumerate(classes)}
    for value in values:
        label, sep, number = str(value).rpartition("=")
        try:
            threshold = float(number)
        except ValueError as e:
            raise ConfigError(f"--threshold {value!r}: expected a number or LABEL=NUMBER") from e
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"--threshold {value!r}: a threshold is a probability in [0, 1]")
        if not sep:
            out[:] = threshold
        elif label in index:
            out[index[label]] = threshold
        else:
            raise ConfigError(f"--threshold {value!r}: no class {label!r}; the model's classes are "
                              f"{', '.join(classes[:20])}{' ...' if len(classes) > 20 else ''}")  # fmt: skip
    return out


def sliding_windows(
    frames: Iterable[StreamFrame],
    *,
    length: int,
    stride: int,
    fps: float,
    source: str,
    short_side: int | None = None,
) -> Iterator[FrameWindow]:
    """Windows of ``length`` consecutive frames every ``stride`` frames, from a ring buffer of the last
    ``length`` frames; a last window ends at the last frame when the regular ones stop short of it (the
    whole video when it is shorter than one window)."""
    from action_core.engine.inferencer import FrameWindow

    if length < 1 or stride < 1:
        raise ConfigError(f"window ({length}) and stride ({stride}) must be at least one frame")
    buffer: collections.deque[StreamFrame] = collections.deque(maxlen=length)
    next_start = 0
    last_end = -1

    def convert(frame: StreamFrame) -> np.ndarray:
        return frame.rgb(short_side)

    def window(members: list[StreamFrame]) -> FrameWindow:
        return FrameWindow(
            members,
            fps=fps,
            start=members[0].time,
            end=members[-1].time + 1.0 / fps,
            source=source,
            to_rgb=convert,
            arrival=members[-1].arrival,
        )

    for frame in frames:
        buffer.append(frame)
        if frame.index == next_start + length - 1:
            last_end = frame.index
            next_start += stride
            yield window(list(buffer))
    if buffer and buffer[-1].index != last_end:
        yield window(list(buffer))


def smooth_scores(probs: np.ndarray, windows: int) -> np.ndarray:
    """Centred moving average over ``windows`` consecutive rows of (N, K) scores (fewer at the ends)."""
    if windows < 1:
        raise ConfigError(f"--smooth {windows}: give a number of windows >= 1 (1: no smoothing)")
    probs = np.asarray(probs, dtype=np.float64)
    if windows == 1 or len(probs) < 2:
        return probs.copy()
    half_before, half_after = (windows - 1) // 2, windows // 2
    padded = np.concatenate([np.zeros((1, probs.shape[1])), np.cumsum(probs, axis=0)])
    n = len(probs)
    lo = np.clip(np.arange(n) - half_before, 0, n)
    hi = np.clip(np.arange(n) + half_after + 1, 0, n)
    return (padded[hi] - padded[lo]) / (hi - lo)[:, None]


def cell_bounds(starts: np.ndarray, ends: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of time each window stands for: half-way to its neighbours' centres; the first starts
    at 0, the last ends at ``duration``."""
    centres = (np.asarray(starts, dtype=np.float64) + np.asarray(ends, dtype=np.float64)) / 2
    if len(centres) == 0:
        return centres, centres
    middles = (centres[1:] + centres[:-1]) / 2
    lo = np.concatenate([[0.0], middles])
    hi = np.concatenate([middles, [max(duration, centres[-1])]])
    return lo, hi


@attrs.frozen
class TimelineSegment:
    """A stretch of the video where one class's smoothed score stays at or above its threshold."""

    label: str
    index: int
    start: float
    end: float
    score: float

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: label, class index, start / end seconds, mean smoothed score."""
        return {
            "label": self.label,
            "index": self.index,
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "score": round(self.score, 6),
        }


def find_segments(
    scores: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    classes: Sequence[str],
    *,
    thresholds: np.ndarray | float = 0.5,
    merge_gap: float = 0.0,
    min_length: float = 0.0,
) -> list[TimelineSegment]:
    """Segments of (N, K) smoothed ``scores`` whose rows stand for the stretches ``[lo[i], hi[i])``: per
    class, runs of rows at or above its threshold, merged across gaps of at most ``merge_gap`` seconds,
    kept when at least ``min_length`` seconds long; sorted by start."""
    scores = np.asarray(scores, dtype=np.float64)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (scores.shape[1],))
    found: list[TimelineSegment] = []
    for c in range(scores.shape[1]):
        active = scores[:, c] >= thresholds[c]
        if not active.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
        runs = [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2], strict=True)]
        merged: list[list[int]] = [runs[0]]
        for run in runs[1:]:
            if lo[run[0]] - hi[merged[-1][1]] <= merge_gap + 1e-9:
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        for a, b in merged:
            start, end = float(lo[a]), float(hi[b])
            if end - start + 1e-9 < min_length:
                continue
            rows = np.arange(a, b + 1)
            rows = rows[active[rows]]
            weights = hi[rows] - lo[rows]
            value = scores[rows, c]
            score = float(np.average(value, weights=weights)) if weights.sum() > 0 else float(value.mean())
            found.append(TimelineSegment(classes[c], c, start, end, score))
    return sorted(found, key=lambda s: (s.start, s.end, s.index))


@attrs.frozen
class Timeline:
    """Labels over time of one video: per-window probabilities, smoothed scores and segments."""

    source: str
    fps: float
    duration: float
    num_frames: int
    classes: tuple[str, ...]
    window_frames: int
    stride_frames: int
    starts: np.ndarray = attrs.field(eq=False, repr=False)  # (N,) seconds
    ends: np.ndarray = attrs.field(eq=False, repr=False)  # (N,) seconds
    probs: np.ndarray = attrs.field(eq=False, repr=False)  # (N, K) per window
    scores: np.ndarray = attrs.field(eq=False, repr=False)  # (N, K) smoothed
    segments: tuple[TimelineSegment, ...]
    smooth: int
    thresholds: np.ndarray = attrs.field(eq=False, repr=False)  # (K,)
    merge_gap: float
    min_length: float
    top_k: int = 5
    model: Mapping[str, Any] = attrs.field(factory=dict)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The stretch of time each window's scores stand for (see :func:`cell_bounds`)."""
        return cell_bounds(self.starts, self.ends, self.duration)

    def scores_at(self, seconds: float) -> np.ndarray:
        """Smoothed class scores (K,) at a moment of the video."""
        lo, _ = self.cells()
        row = int(np.clip(np.searchsorted(lo, seconds, side="right") - 1, 0, len(lo) - 1))
        return self.scores[row]

    def with_segments(
        self,
        *,
        smooth: int | None = None,
        thresholds: np.ndarray | float | None = None,
        merge_gap: float | None = None,
        min_length: float | None = None,
    ) -> Timeline:
        """The same windows with other smoothing or segment settings (no model run)."""
        smooth = self.smooth if smooth is None else smooth
        thresholds = self.thresholds if thresholds is None else np.broadcast_to(
            np.asarray(thresholds, dtype=np.float64), (len(self.classes),)
        )  # fmt: skip
        merge_gap = self.merge_gap if merge_gap is None else merge_gap
        min_length = self.min_length if min_length is None else min_length
        scores = smooth_scores(self.probs, smooth)
        lo, hi = cell_bounds(self.starts, self.ends, self.duration)
        segments = find_segments(
            scores, lo, hi, self.classes, thresholds=thresholds, merge_gap=merge_gap, min_length=min_length
        )
        return attrs.evolve(
            self,
            scores=scores,
            segments=tuple(segments),
            smooth=smooth,
            thresholds=np.array(thresholds, dtype=np.float64),
            merge_gap=float(merge_gap),
            min_length=float(min_length),
        )

    def to_dict(self, *, scores: bool = False) -> dict[str, Any]:
        """The JSON document (schema ``action-timeline/1``, documented in ``docs/apps.md``); ``scores``
        adds every window's smoothed score of every class."""
        k = min(self.top_k, len(self.classes))
        order = np.argsort(-self.probs, axis=1, kind="stable")[:, :k]
        thresholds: Any = float(self.thresholds[0])
        if not np.all(self.thresholds == self.thresholds[0]):
            thresholds = {c: float(t) for c, t in zip(self.classes, self.thresholds, strict=True)}
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "video": {
                "source": self.source,
                "fps": round(self.fps, 6),
                "duration": round(self.duration, 4),
                "frames": self.num_frames,
            },
            "model": dict(self.model),
            "classes": list(self.classes),
            "window": {
                "frames": self.window_frames,
                "stride_frames": self.stride_frames,
                "seconds": round(self.window_frames / self.fps, 6),
                "stride_seconds": round(self.stride_frames / self.fps, 6),
            },
            "smoothing": {"method": "moving_average", "windows": self.smooth},
            "segmentation": {
                "threshold": thresholds,
                "merge_gap": self.merge_gap,
                "min_length": self.min_length,
            },
            "segments": [s.as_dict() for s in self.segments],
            "windows": [
                {
                    "start": round(float(self.starts[i]), 4),
                    "end": round(float(self.ends[i]), 4),
                    "top_k": [[self.classes[c], round(float(self.probs[i, c]), 6)] for c in order[i]],
                }
                for i in range(len(self.starts))
            ],
        }
        if scores:
            document["scores"] = [[round(float(v), 6) for v in row] for row in self.scores]
        return document

    def write_json(self, path: str | os.PathLike[str], *, scores: bool = False) -> Path:
        """Write :meth:`to_dict` to ``path`` (atomically: a temporary file renamed)."""
        return _write_atomic(Path(path), json.dumps(self.to_dict(scores=scores), indent=1))

    def plot(self, path: str | os.PathLike[str], *, max_classes: int = 8) -> Path:
        """A PNG: the smoothed score curves of the classes that have segments or score highest (up to
        ``max_classes``) over time, their thresholds, and below them one lane of segments per class."""
        from action_core.engine.plots import _pyplot

        plt = _pyplot()
        order = sorted({s.index for s in self.segments}, key=lambda c: -float(self.scores[:, c].max()))
        for c in np.argsort(-self.scores.max(axis=0)) if len(self.scores) else []:
            if len(order) >= max_classes:
                break
            if int(c) not in order:
                order.append(int(c))
        order = order[:max_classes]
        minutes = self.duration > 600
        unit, scale = ("min", 60.0) if minutes else ("s", 1.0)
        centres = (self.starts + self.ends) / 2 / scale
        fig, (curves, lanes) = plt.subplots(
            2,
            1,
            figsize=(12, 4 + 0.35 * max(1, len(order))),
            sharex=True,
            gridspec_kw={"height_ratios": [3, max(1, len(order)) * 0.35 + 0.5]},
        )
        colours = plt.get_cmap("tab10")
        for row, c in enumerate(order):
            colour = colours(row % 10)
            curves.plot(centres, self.scores[:, c], color=colour, lw=1.2, label=self.classes[c])
            curves.axhline(self.thresholds[c], color=colour, lw=0.6, ls=":")
            spans = [(s.start / scale, s.duration / scale) for s in self.segments if s.index == c]
            if spans:
                lanes.broken_barh(spans, (row - 0.4, 0.8), color=colour)
        curves.set_ylim(0, 1.02)
        curves.set_ylabel("smoothed score")
        curves.grid(alpha=0.3)
        if order:
            curves.legend(loc="upper right", fontsize=8, ncol=2)
        curves.set_title(
            f"{Path(self.source).name}: {len(self.starts)} windows of {self.window_frames / self.fps:.2f} s "
            f"every {self.stride_frames / self.fps:.2f} s, {len(self.segments)} segments"
        )
        lanes.set_yticks(range(len(order)), labels=[self.classes[c] for c in order], fontsize=8)
        lanes.set_ylim(len(order) - 0.5, -0.5)
        lanes.set_xlim(0, self.duration / scale)
        lanes.set_xlabel(f"time ({unit})")
        lanes.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_timeline(
    inferencer: Inferencer,
    video: str | os.PathLike[str],
    *,
    window: str | int | None = None,
    stride: str | int | None = None,
    smooth: int = 3,
    thresholds: Sequence[str] | float | None = None,
    merge_gap: float = 0.5,
    min_length: float = 0.0,
    top_k: int = 5,
    batch_size: int | None = None,
    timeout: float = 60.0,
    progress: bool = False,
) -> Timeline:
    """Run ``inferencer`` over sliding windows of ``video`` (decoded once, in order, in constant memory)
    and build its :class:`Timeline`.

    ``window`` / ``stride``: frames (``16``) or seconds (``"2s"``); defaults :func:`default_window` and a
    quarter of the window. ``smooth``: windows in the moving average (1: none). ``thresholds``: ``0.5`` or
    ``["0.5", "LABEL=0.7"]``. ``merge_gap`` / ``min_length``: seconds.
    """
    from tqdm.auto import tqdm

    from action_core.video.stream import FrameStream, prefetch

    if merge_gap < 0 or min_length < 0:
        raise ConfigError(f"merge gap ({merge_gap}) and minimum length ({min_length}) must be >= 0 seconds")
    threshold_values = parse_thresholds(thresholds, inferencer.classes)
    with FrameStream(video, timeout=timeout, threads=0) as stream:
        fps = stream.fps
        length = (
            parse_span(window, fps) if window is not None else default_window(inferencer.pipeline_steps, fps)
        )
        step = parse_span(stride, fps, what="stride") if stride is not None else max(1, round(length / 4))
        windows = sliding_windows(
            stream,
            length=length,
            stride=step,
            fps=fps,
            source=os.fspath(video),
            short_side=inferencer.short_side,
        )
        size = batch_size or inferencer.batch_size
        starts: list[float] = []
        ends: list[float] = []
        probs: list[np.ndarray] = []
        total = stream.duration
        bar = tqdm(
            total=round(total, 1) if total else None, unit="s", disable=not progress, dynamic_ncols=True
        )
        try:
            for prediction in inferencer.predict_windows(
                prefetch(windows, 2 * size), batch_size=size, top_k=1
            ):
                starts.append(float(prediction.start))  # type: ignore[arg-type]
                ends.append(float(prediction.end))  # type: ignore[arg-type]
                probs.append(prediction.probs.astype(np.float32))
                bar.update(max(0.0, round(ends[-1] - bar.n, 1)))
        finally:
            bar.close()
        num_frames = stream.frames_read
    if not probs:
        from action_core.video import MediaError

        raise MediaError(
            f"{os.fspath(video)!r} has no frames to predict on", path=os.fspath(video), cause="empty"
        )
    duration = max(ends)
    timeline = Timeline(
        source=os.fspath(video),
        fps=fps,
        duration=duration,
        num_frames=num_frames,
        classes=tuple(inferencer.classes),
        window_frames=length,
        stride_frames=step,
        starts=np.asarray(starts),
        ends=np.asarray(ends),
        probs=np.stack(probs),
        scores=np.empty((0, 0)),
        segments=(),
        smooth=smooth,
        thresholds=threshold_values,
        merge_gap=float(merge_gap),
        min_length=float(min_length),
        top_k=top_k,
        model={"source": inferencer.source, "type": inferencer.cfg.model.type, "views": inferencer.views},
    )
    return timeline.with_segments()


def write_timeline_video(
    timeline: Timeline, src: str | os.PathLike[str], dst: str | os.PathLike[str], *, top_k: int = 3
) -> Path:
    """A copy of ``src`` with, on every frame, the time and the ``top_k`` smoothed scores at that moment;
    classes inside one of their segments are marked with ``*``."""
    from action_core.engine.overlay import write_overlay_video

    top_k = max(1, min(top_k, len(timeline.classes)))

    def lines_at(seconds: float) -> list[str]:
        values = timeline.scores_at(seconds)
        order = np.argsort(-values, kind="stable")[:top_k]
        inside = {s.index for s in timeline.segments if s.start <= seconds < s.end}
        lines = [f"{_clock(seconds)}"]
        lines += [f"{'*' if c in inside else ' '}{timeline.classes[c]}: {values[c]:.2f}" for c in order]
        return lines

    return write_overlay_video(src, dst, [], lines_at=lines_at)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours:d}:{minutes:02d}:{rest:05.2f}" if hours else f"{minutes:d}:{rest:05.2f}"
