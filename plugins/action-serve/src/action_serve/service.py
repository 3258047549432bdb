"""The work behind the endpoints, on one uploaded file: check it is a video the server takes, then predict
or build its timeline through core's :class:`~action_core.api.Inferencer` (nothing here decodes for the
model or runs it another way). Plain functions, run in worker threads by :mod:`action_serve.app`."""

from __future__ import annotations

import base64
import shutil
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from action_serve.errors import ServeError
from action_serve.settings import ServeSettings

__all__ = ["INCLUDES", "VideoFacts", "check_video", "model_card", "predict", "timeline"]

INCLUDES = ("prediction", "plot", "video")
"""What ``POST /v1/timeline?include=...`` may add to the timeline document."""


@attrs.frozen
class VideoFacts:
    """What the server learnt about an upload before running the model."""

    duration: float
    fps: float
    frames: int
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "duration": round(self.duration, 4),
            "fps": round(self.fps, 4),
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
        }


def _detail(error: BaseException, path: Path, name: str) -> str:
    """An error's text with the server's temporary path replaced by the client's file name."""
    text = str(error)
    for form in (repr(str(path)), str(path)):
        text = text.replace(form, repr(name))
    return text.replace(str(path.parent), "")


_MP4_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot", b"uuid"}


def container_of(head: bytes) -> str | None:
    """The video container the first bytes of a file announce, or ``None`` when they announce none of
    those the server takes: MP4/MOV/3GP, Matroska/WebM, AVI, MPEG program and transport streams, FLV,
    ASF/WMV, Ogg and GIF.

    FFmpeg opens far more than videos (text files through its ``tty`` demuxer, still images, playlists that
    point at other files), so an upload must announce a video container before FFmpeg sees it.
    """
    if len(head) >= 8 and head[4:8] in _MP4_BOXES:
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return "avi"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "mpegts"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def media_error(error: BaseException, path: Path, name: str) -> ServeError:
    """The 4xx answer for a file that announces a video container but that core's video reader refused
    (``MediaError``), by its cause."""
    cause = getattr(error, "cause", None)
    detail = _detail(error, path, name)
    if cause == "empty":
        return ServeError(400, "empty_file", f"{name!r} is empty (0 bytes); choose the video file itself")
    if cause == "no video stream":
        return ServeError(
            415,
            "not_a_video",
            f"{name!r} has no video track (an audio file?); choose a video file such as MP4, WebM, MOV or AVI",
        )
    if cause == "truncated":
        return ServeError(
            422,
            "truncated_video",
            f"{name!r} is truncated or damaged, so it cannot be read to the end; upload the complete file "
            f"(details: {detail})",
        )
    return ServeError(
        422,
        "unreadable_video",
        f"{name!r} looks like a video but cannot be read: it is damaged or truncated; upload the complete "
        f"file, or re-encode it (details: {detail})",
    )


def check_video(path: Path, name: str, settings: ServeSettings) -> VideoFacts:
    """Refuse the upload unless it announces a video container (:func:`container_of`), core's video reader
    opens it (counting its frames from the index, not trusting the header), it has more than one frame,
    and it is no longer than ``settings.max_duration``."""
    from action_core.api import MediaError, VideoReader

    with open(path, "rb") as handle:
        head = handle.read(512)
    if container_of(head) is None:
        raise ServeError(
            415,
            "not_a_video",
            f"{name!r} is not a video: its content is none of the video formats this server reads (MP4, MOV, "
            "WebM, MKV, AVI, MPEG, FLV, WMV, Ogg, GIF); choose a video file",
        )
    try:
        with VideoReader(path, timeout=30.0) as reader:
            facts = VideoFacts(
                duration=float(reader.duration),
                fps=float(reader.fps),
                frames=int(reader.num_frames),
                width=int(reader.width),
                height=int(reader.height),
            )
    except MediaError as e:
        raise media_error(e, path, name) from e
    if facts.frames < 2:
        raise ServeError(
            415,
            "not_a_video",
            f"{name!r} holds a single picture: it is an image, not a video; choose a video file",
        )
    if facts.duration > settings.max_duration:
        raise ServeError(
            422,
            "video_too_long",
            f"{name!r} is {facts.duration:.1f} s long; this server takes videos up to {settings.max_duration:g} s "
            "(--max-duration); trim it and try again",
        )
    return facts


def model_card(inferencer: Any, settings: ServeSettings) -> dict[str, Any]:
    """``GET /v1/models``'s entry for the loaded model: its name, type, labels and input spec."""
    steps = [dict(step) for step in inferencer.pipeline_steps]
    sampler = next((s for s in steps if "clip_len" in s), {})
    formats = [s.get("input_format") for s in steps if s.get("type") == "FormatShape"]
    return {
        "name": Path(str(inferencer.source)).name or type(inferencer.model).__name__,
        "type": inferencer.cfg.model.type,
        "task": "recognition",
        "num_classes": len(inferencer.classes),
        "labels": list(inferencer.classes),
        "multi_label": bool(inferencer.multi_label),
        "device": str(inferencer.device),
        "precision": inferencer.amp,
        "top_k": settings.top_k,
        "input": {
            "format": formats[-1] if formats else None,
            "clips": int(sampler.get("num_clips", 1)),
            "clip_len": int(sampler.get("clip_len", 1)),
            "frame_interval": int(sampler.get("frame_interval", 1)),
            "views": inferencer.views,
            "pipeline": steps,
        },
    }


def _model_ref(inferencer: Any) -> dict[str, Any]:
    return {"name": Path(str(inferencer.source)).name, "type": inferencer.cfg.model.type}


def predict(inferencer: Any, path: Path, name: str, facts: VideoFacts, *, top_k: int) -> dict[str, Any]:
    """Top-k of the whole video through the model's test pipeline: core's prediction JSON (``source``,
    ``top_k`` as ``[[label, score], ...]``) plus ``video`` facts, ``model`` and ``seconds`` taken."""
    from action_core.api import MediaError

    start = time.perf_counter()
    try:
        prediction = inferencer.predict_video(path, top_k=top_k)
    except MediaError as e:
        raise media_error(e, path, name) from e
    document = prediction.as_dict()
    document["source"] = name
    document["video"] = facts.as_dict()
    document["model"] = _model_ref(inferencer)
    document["seconds"] = round(time.perf_counter() - start, 4)
    return document


def _data_url(path: Path, kind: str) -> str:
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def timeline(
    inferencer: Any,
    path: Path,
    name: str,
    facts: VideoFacts,
    *,
    settings: ServeSettings,
    top_k: int,
    include: Collection[str] = (),
    options: Mapping[str, Any] | None = None,
    window_inferencer: Any = None,
) -> dict[str, Any]:
    """The timeline document of the video (schema ``action-timeline/1``, built by core's timeline over the
    Inferencer: ``window_inferencer``, default :func:`~action_serve.core_timeline.timeline_inferencer`), its
    ``source`` the client's file name. ``include`` adds ``prediction`` (the whole-video top-k, as
    ``POST /v1/predict`` answers), and under ``renders`` the ``plot`` (PNG) and the labelled ``video`` (H.264
    MP4), as data URLs; they are written in the request's folder, which the caller removes."""
    from action_core.api import MediaError
    from action_serve.core_timeline import timeline_functions, timeline_inferencer

    core = timeline_functions()
    start = time.perf_counter()
    opts: dict[str, Any] = {"window": settings.window, "stride": settings.stride, "smooth": settings.smooth}
    opts.update({k: v for k, v in (options or {}).items() if v is not None})
    windows = window_inferencer if window_inferencer is not None else timeline_inferencer(inferencer)
    try:
        built = core.make_timeline(windows, path, top_k=top_k, **opts)
    except MediaError as e:
        raise media_error(e, path, name) from e
    model = {**_model_ref(inferencer), "views": windows.views}
    named = attrs.evolve(built, source=name, model=model)
    document = named.to_dict()
    if "prediction" in include:
        document["prediction"] = predict(inferencer, path, name, facts, top_k=top_k)
    renders: dict[str, str] = {}
    if "plot" in include:
        renders["plot"] = _data_url(named.plot(path.parent / "timeline.png"), "image/png")
    if "video" in include:
        try:
            labelled = core.write_timeline_video(named, path, path.parent / "labelled.mp4")
        except MediaError as e:
            raise media_error(e, path, name) from e
        renders["video"] = _data_url(labelled, "video/mp4")
    if renders:
        document["renders"] = renders
    document["seconds"] = round(time.perf_counter() - start, 4)
    return document


def parse_include(values: Sequence[str]) -> list[str]:
    """``include`` query values (``plot,video`` or repeated) checked against :data:`INCLUDES`."""
    items = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = sorted(set(items) - set(INCLUDES))
    if unknown:
        raise ServeError(
            422,
            "bad_include",
            f"include={','.join(unknown)} is not known; choose among {', '.join(INCLUDES)}",
        )
    return items


def remove_tree(folder: Path) -> None:
    """Delete a request's folder and everything in it (no error when it is already gone)."""
    shutil.rmtree(folder, ignore_errors=True)
