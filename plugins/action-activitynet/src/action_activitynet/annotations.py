"""ActivityNet v1.3 annotations: the official JSON and MMAction2's BSN/BMN form, read, checked and converted
into core's :class:`~action_core.api.VideoInfo` records.

Official file: ``{"version", "taxonomy", "database": {<youtube id>: {"subset", "duration", "annotations":
[{"segment": [t0, t1], "label"}], ...}}}``.

MMAction2 form (what its BSN/BMN configs read from ``anno_{train,val,test}.json``): ``{"v_<youtube id>":
{"duration_second", "duration_frame", "feature_frame", "annotations": [...], "fps"?, "rfps"?}}``.
``feature_frame`` is the number of frames covered by whole feature snippets; the normalised position of a
time ``t`` is ``t / (feature_frame / duration_frame * duration_second)``.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from action_core.api import AnnotationError, Segment, VideoInfo

__all__ = [
    "SUBSETS",
    "convert_official",
    "load_annotations",
    "load_official",
    "load_video_info_csv",
    "save_annotations",
]

#: official subset name -> MMAction2 file suffix
SUBSETS = {"training": "train", "validation": "val", "testing": "test"}


def _load_json(path: str | os.PathLike[str]) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError as e:
        raise AnnotationError("annotation file not found; check the path", path=os.fspath(path)) from e
    except json.JSONDecodeError as e:
        raise AnnotationError(f"not valid JSON ({e.msg}, line {e.lineno})", path=os.fspath(path)) from e


def _number(value: Any, *, path: str, video: str, field: str, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as e:
        raise AnnotationError(
            f"video {video!r}: field {field!r} must be a number, got {value!r}", path=path
        ) from e
    if not math.isfinite(x) or (positive and x <= 0):
        need = "a finite number > 0" if positive else "a finite number"
        raise AnnotationError(f"video {video!r}: field {field!r} must be {need}, got {value!r}", path=path)
    return x


def _segments(anns: Any, *, path: str, video: str) -> tuple[Segment, ...]:
    if anns is None:
        return ()
    if not isinstance(anns, list):
        raise AnnotationError(f"video {video!r}: field 'annotations' must be a list", path=path)
    out = []
    for i, ann in enumerate(anns):
        field = f"annotations[{i}]"
        if not isinstance(ann, Mapping) or "segment" not in ann:
            raise AnnotationError(f"video {video!r}: {field} must be an object with a 'segment'", path=path)
        seg = ann["segment"]
        if not isinstance(seg, list | tuple) or len(seg) != 2:
            raise AnnotationError(
                f"video {video!r}: field '{field}.segment' must be [start, end] in seconds, got {seg!r}",
                path=path,
            )
        t0 = _number(seg[0], path=path, video=video, field=f"{field}.segment[0]")
        t1 = _number(seg[1], path=path, video=video, field=f"{field}.segment[1]")
        if t0 > t1:
            raise AnnotationError(
                f"video {video!r}: field '{field}.segment' has start {t0} > end {t1}; fix or drop the segment",
                path=path,
            )
        out.append(Segment(t0, t1, str(ann.get("label", ""))))
    return tuple(out)


def load_official(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an official ActivityNet annotation JSON; returns its ``database`` after checking every video."""
    p = os.fspath(path)
    data = _load_json(p)
    if not isinstance(data, Mapping) or not isinstance(data.get("database"), Mapping):
        raise AnnotationError(
            "expected an object with a 'database' object (official ActivityNet JSON)", path=p
        )
    for vid, info in data["database"].items():
        if not isinstance(info, Mapping):
            raise AnnotationError(f"video {vid!r}: entry must be an object", path=p)
        _number(info.get("duration"), path=p, video=vid, field="duration", positive=True)
        _segments(info.get("annotations", []), path=p, video=vid)
    return dict(data["database"])


def _video_info(vid: str, info: Any, *, path: str) -> VideoInfo:
    if not isinstance(info, Mapping):
        raise AnnotationError(f"video {vid!r}: entry must be an object", path=path)
    for field in ("duration_second", "duration_frame"):
        if field not in info:
            raise AnnotationError(
                f"video {vid!r}: field {field!r} is missing (MMAction2 BSN/BMN form needs duration_second, "
                f"duration_frame, feature_frame, annotations)",
                path=path,
            )
    seconds = _number(info["duration_second"], path=path, video=vid, field="duration_second", positive=True)
    frames = _number(info["duration_frame"], path=path, video=vid, field="duration_frame", positive=True)
    feature = _number(
        info.get("feature_frame", frames), path=path, video=vid, field="feature_frame", positive=True
    )
    if frames != int(frames) or feature != int(feature):
        raise AnnotationError(
            f"video {vid!r}: fields 'duration_frame'/'feature_frame' must be whole numbers, got {frames}/{feature}",
            path=path,
        )
    if feature > frames:
        raise AnnotationError(
            f"video {vid!r}: field 'feature_frame' ({int(feature)}) exceeds 'duration_frame' ({int(frames)})",
            path=path,
        )
    fps = info.get("fps")
    rfps = info.get("rfps")
    return VideoInfo(
        name=str(vid),
        duration_second=seconds,
        duration_frame=int(frames),
        feature_frame=int(feature),
        segments=_segments(info.get("annotations", []), path=path, video=vid),
        fps=None if fps is None else _number(fps, path=path, video=vid, field="fps", positive=True),
        rfps=None if rfps is None else _number(rfps, path=path, video=vid, field="rfps", positive=True),
        subset=info.get("subset"),
    )


def load_annotations(
    path: str | os.PathLike[str],
    *,
    subset: str | None = None,
    fps: float = 30.0,
    snippet: int = 16,
    official_only_subset: bool = False,
) -> dict[str, VideoInfo]:
    """Read ActivityNet annotations in either form into ``{video name: VideoInfo}`` (file order).

    An official file (it has ``database``) is converted on the fly with :func:`convert_official`
    (``subset`` = ``training``/``validation``/``testing`` or their short names, ``None`` for all); for an
    MMAction2-form file (one split per file) a ``subset`` is an error unless ``official_only_subset``.
    Every field is checked; a malformed one raises :class:`AnnotationError` naming file, video and field.
    """
    p = os.fspath(path)
    data = _load_json(p)
    if isinstance(data, Mapping) and isinstance(data.get("database"), Mapping):
        converted = convert_official(load_official(p), fps=fps, snippet=snippet)
        if subset is None:
            data = {k: v for part in converted.values() for k, v in part.items()}
        else:
            data = converted[_short_subset(subset)]
    elif subset is not None and not official_only_subset:
        raise AnnotationError(
            f"subset={subset!r} applies to official files only; an MMAction2-form file holds one split",
            path=p,
        )
    if not isinstance(data, Mapping):
        raise AnnotationError("expected an object keyed by video name", path=p)
    return {str(vid): _video_info(str(vid), info, path=p) for vid, info in data.items()}


def _short_subset(subset: str) -> str:
    if subset in SUBSETS:
        return SUBSETS[subset]
    if subset in SUBSETS.values():
        return subset
    raise ValueError(f"unknown subset {subset!r}; use one of {', '.join([*SUBSETS, *SUBSETS.values()])}")


def load_video_info_csv(path: str | os.PathLike[str]) -> dict[str, dict[str, float]]:
    """Read the BSN authors' ``video_info_new.csv`` (``video,numFrame,seconds,fps,rfps,subset,featureFrame``).

    Returns ``{"v_<id>": {"duration_frame", "duration_second", "fps", "rfps", "feature_frame"}}``.
    """
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError as e:
        raise AnnotationError("video info file not found; check the path", path=p) from e
    out: dict[str, dict[str, float]] = {}
    need = ("video", "numFrame", "seconds", "fps", "rfps", "featureFrame")
    for line, row in enumerate(rows, start=2):
        missing = [k for k in need if not row.get(k)]
        if missing:
            raise AnnotationError(
                f"row lacks {missing} (header must have {', '.join(need)})", path=p, line=line
            )
        vid = row["video"]
        try:
            out[vid] = {
                "duration_frame": int(float(row["numFrame"])),
                "duration_second": float(row["seconds"]),
                "fps": float(row["fps"]),
                "rfps": float(row["rfps"]),
                "feature_frame": int(float(row["featureFrame"])),
            }
        except ValueError as e:
            raise AnnotationError(f"video {vid!r}: non-numeric field ({e})", path=p, line=line) from e
    return out


def convert_official(
    database: Mapping[str, Any],
    *,
    video_info: Mapping[str, Mapping[str, float]] | None = None,
    fps: float = 30.0,
    snippet: int = 16,
    prefix: str = "v_",
) -> dict[str, dict[str, dict[str, Any]]]:
    """Convert an official ``database`` to MMAction2's form, split by subset: ``{"train"|"val"|"test": {...}}``.

    Video names get ``prefix`` (MMAction2 uses ``v_<youtube id>``). Frame counts come from ``video_info``
    (see :func:`load_video_info_csv`) when it lists the video, else from ``round(duration * fps)`` with
    ``feature_frame`` cut to whole ``snippet``-frame snippets (MMAction2's features use 16-frame snippets).
    """
    if fps <= 0 or snippet < 1:
        raise ValueError(f"fps must be > 0 and snippet >= 1; got fps={fps}, snippet={snippet}")
    out: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in SUBSETS.values()}
    for vid, info in database.items():
        name = f"{prefix}{vid}"
        subset = SUBSETS.get(str(info.get("subset", "")))
        if subset is None:
            raise AnnotationError(
                f"video {vid!r}: field 'subset' is {info.get('subset')!r}; expected one of {', '.join(SUBSETS)}",
                path="<official database>",
            )
        known = (video_info or {}).get(name) or (video_info or {}).get(str(vid))
        if known is not None:
            entry: dict[str, Any] = {
                "duration_second": float(known["duration_second"]),
                "duration_frame": int(known["duration_frame"]),
                "feature_frame": int(known["feature_frame"]),
                "fps": float(known.get("fps", fps)),
                "rfps": float(known.get("rfps", fps)),
            }
        else:
            seconds = float(info["duration"])
            frames = max(1, int(round(seconds * fps)))
            entry = {
                "duration_second": seconds,
                "duration_frame": frames,
                "feature_frame": frames // snippet * snippet or frames,
                "fps": float(fps),
                "rfps": float(fps),
            }
        entry["annotations"] = [
            {"segment": [float(a["segment"][0]), float(a["segment"][1])], "label": a["label"]}
            for a in info.get("annotations", [])
        ]
        out[subset][name] = entry
    return out


def save_annotations(path: str | os.PathLike[str], videos: Mapping[str, Any]) -> Path:
    """Write MMAction2-form annotations (``VideoInfo`` objects or plain dicts) as JSON; returns the path."""
    data = {k: (v.to_dict() if isinstance(v, VideoInfo) else dict(v)) for k, v in videos.items()}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data), encoding="utf-8")
    return p
