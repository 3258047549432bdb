"""Read and write the official ActivityNet results JSON, and read official ground-truth annotations.

Results file (what the ActivityNet evaluation scripts read)::

    {"version": "VERSION 1.3",
     "results": {"<video id>": [{"label": "Blow-drying hair", "score": 0.9, "segment": [94.52, 130.49]}]},
     "external_data": {"used": false, "details": ""}}

For the proposal task ``label`` may be omitted. Video ids are written as given (the official files use
the YouTube id without MMAction2's ``v_`` prefix; :func:`strip_video_prefix` converts).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "read_activitynet_ground_truth",
    "read_activitynet_results",
    "strip_video_prefix",
    "write_activitynet_results",
]

Detections = dict[str, list[dict[str, Any]]]


def strip_video_prefix(video_id: str, prefix: str = "v_") -> str:
    """MMAction2's BSN/BMN ids are ``v_<youtube id>``; the official files use the bare id."""
    return video_id[len(prefix) :] if video_id.startswith(prefix) else video_id


def _check_entry(entry: Any, where: str, *, need_label: bool) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ValueError(
            f"{where}: expected an object with 'segment' and 'score', got {type(entry).__name__}"
        )
    try:
        seg = entry["segment"]
        t0, t1 = float(seg[0]), float(seg[1])
        if len(seg) != 2:
            raise ValueError("segment must have exactly two numbers")
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ValueError(
            f"{where}: field 'segment' must be [start, end] in seconds; got {entry.get('segment')!r}"
        ) from e
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise ValueError(f"{where}: field 'segment' must be finite; got {[t0, t1]}")
    if t0 > t1:
        raise ValueError(f"{where}: field 'segment' has start {t0} > end {t1}")
    out: dict[str, Any] = {"segment": [t0, t1]}
    if "score" in entry:
        try:
            score = float(entry["score"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: field 'score' must be a number; got {entry['score']!r}") from e
        if not math.isfinite(score):
            raise ValueError(f"{where}: field 'score' must be finite; got {score}")
        out["score"] = score
    if "label" in entry:
        out["label"] = entry["label"]
    elif need_label:
        raise ValueError(f"{where}: field 'label' is missing (needed for detection results)")
    return out


def write_activitynet_results(
    path: str | os.PathLike[str],
    results: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    version: str = "VERSION 1.3",
    external_data: Mapping[str, Any] | None = None,
    require_label: bool = False,
) -> Path:
    """Write ``results`` ({video id: [{"segment", "score", "label"?}]}) as an official results JSON.

    Every entry is validated (finite numbers, start <= end, a score). The file is written atomically
    (temporary file + rename) so a reader never sees a partial file. Returns the path.
    """
    payload: dict[str, Any] = {
        "version": version,
        "results": {},
        "external_data": dict(external_data or {"used": False, "details": ""}),
    }
    for vid, entries in results.items():
        rows = []
        for i, entry in enumerate(entries):
            row = _check_entry(entry, f"results[{vid!r}][{i}]", need_label=require_label)
            if "score" not in row:
                raise ValueError(f"results[{vid!r}][{i}]: field 'score' is missing")
            rows.append({k: row[k] for k in ("label", "score", "segment") if k in row})
        payload["results"][str(vid)] = rows
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _load_json(path: str | os.PathLike[str], what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise OSError(f"cannot read {what} file {os.fspath(path)!r}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} file {os.fspath(path)!r} is not valid JSON: {e}") from e


def read_activitynet_results(path: str | os.PathLike[str], *, require_label: bool = False) -> Detections:
    """Read an official results JSON into {video id: [{"segment": [t0, t1], "score", "label"?}]}."""
    data = _load_json(path, "ActivityNet results")
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), Mapping):
        raise ValueError(
            f"{os.fspath(path)!r}: expected an object with a 'results' object (official results JSON)"
        )
    out: Detections = {}
    for vid, entries in data["results"].items():
        if not isinstance(entries, list):
            raise ValueError(f"{os.fspath(path)!r}: results[{vid!r}] must be a list")
        out[vid] = [
            _check_entry(e, f"{os.fspath(path)}: results[{vid!r}][{i}]", need_label=require_label)
            for i, e in enumerate(entries)
        ]
    return out


def read_activitynet_ground_truth(
    path: str | os.PathLike[str], *, subset: str | None = "validation"
) -> Detections:
    """Read official ActivityNet annotations ({version, taxonomy, database}) of one ``subset``.

    Returns {video id: [{"segment": [t0, t1], "label"}]}; videos of the subset without annotations are
    kept with an empty list (the evaluation ignores them, as the official code does).
    ``subset=None`` keeps every video.
    """
    data = _load_json(path, "ActivityNet ground truth")
    if not isinstance(data, Mapping) or not isinstance(data.get("database"), Mapping):
        raise ValueError(
            f"{os.fspath(path)!r}: expected an object with a 'database' object (official annotations)"
        )
    out: Detections = {}
    for vid, info in data["database"].items():
        if subset is not None and info.get("subset") != subset:
            continue
        anns = info.get("annotations", [])
        out[vid] = [
            _check_entry(a, f"{os.fspath(path)}: database[{vid!r}].annotations[{i}]", need_label=True)
            for i, a in enumerate(anns)
        ]
    return out
