"""Multi-view testing: rewrite a test pipeline to sample ``clips`` clips and take ``crops`` crops of each.

``--views CLIPSxCROPS`` (``action-run test`` and ``predict``) goes through :func:`apply_views`. It follows
MMAction2's test pipelines:

- clips: a 3D sampler (``clip_len > 1``) takes ``num_clips = CLIPS`` evenly spaced clips; a segment sampler
  (``clip_len == 1``, TSN/TSM) takes CLIPS clips of the model's trained segment count S each: ``CLIPS * S``
  evenly spaced frames, grouped into CLIPS views of S consecutive frames (``num_views``), so every view is
  what the model was trained on (TSM's temporal shift needs exactly S) and covers one CLIPS-th of the video,
  as a 3D clip covers a window. MMAction2 gives a TSM the same frames and groups them the same way when its
  ``SampleFrames`` has ``num_clips = CLIPS * S``. ``DenseSampleFrames`` takes CLIPS window positions;
- crops: 1 is ``CenterCrop`` of the input size, 10 is ``TenCrop`` of it (after the pipeline's resize);
  3 is ``ThreeCrop``, which must span the shorter side: a pipeline whose own crop is already a ``ThreeCrop``
  keeps it (MMAction2's ``Resize(-1, 256)`` + ``ThreeCrop(256)``), any other gets its shorter side resized
  to the input size first (``Resize(-1, 224)`` + ``ThreeCrop(224)``), so the model sees the input size it
  was trained on.

The input size is the crop size of the pipeline (``crop_size`` overrides it for a ``ThreeCrop``, whose crop
is the whole short side: the engine passes the validation pipeline's centre crop).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from action_core.errors import ConfigError

__all__ = ["CROP_STEPS", "apply_views", "parse_views", "trained_segments"]

_VIEWS = re.compile(r"^\s*(\d+)\s*[x×*]\s*(\d+)\s*$")
CROP_STEPS = {1: "CenterCrop", 3: "ThreeCrop", 10: "TenCrop"}
_SEGMENT_SAMPLERS = ("SampleFrames", "SegmentSampleFrames")


def parse_views(views: str | tuple[int, int]) -> tuple[int, int]:
    """``"10x3"`` (clips x crops) → ``(10, 3)``."""
    if isinstance(views, tuple):
        clips, crops = views
    else:
        match = _VIEWS.match(views)
        if match is None:
            raise ConfigError(f"views = {views!r} is not CLIPSxCROPS (e.g. 10x3 or 1x1)")
        clips, crops = int(match.group(1)), int(match.group(2))
    if clips < 1 or crops not in CROP_STEPS:
        raise ConfigError(f"views = {views!r}: clips must be >= 1 and crops one of 1, 3, 10")
    return clips, crops


def _sampler(steps: list[dict[str, Any]]) -> int | None:
    for i, step in enumerate(steps):
        if "num_clips" in step or "num_segments" in step or step.get("type") == "DenseSampleFrames":
            return i
    return None


def trained_segments(pipeline: Sequence[Mapping[str, Any]]) -> int | None:
    """The segment count of a training pipeline's segment sampler (``clip_len == 1``), if it has one."""
    steps = [dict(s) for s in pipeline]
    i = _sampler(steps)
    if i is None or steps[i].get("type") not in _SEGMENT_SAMPLERS:
        return None
    step = steps[i]
    if step["type"] == "SegmentSampleFrames":
        return int(step.get("num_segments", 8))
    return int(step["num_clips"]) if int(step.get("clip_len", 1)) == 1 else None


def _set_clips(step: dict[str, Any], clips: int, segments: int | None) -> None:
    kind = step.get("type")
    if kind in _SEGMENT_SAMPLERS and int(step.get("clip_len", 1)) == 1:
        key = "num_segments" if kind == "SegmentSampleFrames" else "num_clips"
        grouped = 2 if step.get("twice_sample") else int(step.get("num_views") or 1)
        per_view = segments or max(int(step.get(key, 8)) // grouped, 1)
        step[key] = clips * per_view
        step.pop("twice_sample", None)
        step.pop("num_views", None)
        if clips > 1:
            step["num_views"] = clips
    elif kind == "DenseSampleFrames":
        step["num_sample_positions"] = clips
    elif "num_clips" in step:
        step["num_clips"] = clips
        step.pop("twice_sample", None)
    else:
        raise ConfigError(f"cannot set the clip count of the test pipeline's sampler {kind!r}")


def _short_side_resize(step: Mapping[str, Any]) -> bool:
    scale = step.get("scale")
    return (
        step.get("type") == "Resize"
        and step.get("keep_ratio", True)
        and isinstance(scale, (list, tuple))
        and len(scale) == 2
        and -1 in scale
    )


def apply_views(
    pipeline: Sequence[Mapping[str, Any]],
    views: str | tuple[int, int],
    *,
    segments: int | None = None,
    crop_size: int | None = None,
) -> list[dict[str, Any]]:
    """A copy of a test pipeline that takes ``views`` (``"CLIPSxCROPS"``) as the module documentation says.

    ``segments``: the segment count the model was trained on (a 2D segment sampler groups its frames into
    views of that many); by default the sampler's own ``num_clips``. ``crop_size``: the model's input size
    when the pipeline's crop is a ``ThreeCrop`` of the whole short side.
    """
    clips, crops = parse_views(views)
    steps = [dict(step) for step in pipeline]
    at = _sampler(steps)
    if at is None:
        raise ConfigError(
            "cannot set views: the test pipeline has no sampling step (a step with 'num_clips' or "
            "'num_segments', or DenseSampleFrames)"
        )
    _set_clips(steps[at], clips, segments)
    position = next((i for i, s in enumerate(steps) if s.get("type") in CROP_STEPS.values()), None)
    if position is None:
        if crops != 1:
            raise ConfigError(
                f"cannot take {crops} crops: the test pipeline has no CenterCrop/ThreeCrop/TenCrop step"
            )
        return steps
    crop = steps[position]
    own = crop.get("crop_size")
    size = (crop_size or own) if crop.get("type") == "ThreeCrop" else own
    if crops == 3 and crop.get("type") == "ThreeCrop":
        return steps
    steps[position] = {"type": CROP_STEPS[crops], "crop_size": size}
    if crops == 3:
        if not isinstance(size, int):
            raise ConfigError(f"ThreeCrop needs a square crop size; the test pipeline's crop is {own!r}")
        resize = next((i for i in range(position - 1, -1, -1) if steps[i].get("type") == "Resize"), None)
        if resize is not None and _short_side_resize(steps[resize]):
            steps[resize] = {**steps[resize], "scale": [-1, size]}
        else:
            steps.insert(position, {"type": "Resize", "scale": [-1, size]})
    return steps
