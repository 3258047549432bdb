"""Build a pipeline from its config: a list of ``{"type": name, **kwargs}`` steps."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from action_core.data import samplers, transforms
from action_core.data.decode import DecodeFrames
from action_core.errors import ConfigError

Transform = Callable[[dict[str, Any]], dict[str, Any]]

TRANSFORMS: dict[str, type] = {
    "SampleFrames": samplers.SampleFrames,
    "SegmentSampleFrames": samplers.SegmentSampleFrames,
    "DenseSampleFrames": samplers.DenseSampleFrames,
    "UniformSample": samplers.UniformSample,
    "UniformSampleFrames": samplers.UniformSampleFrames,
    "DecodeFrames": DecodeFrames,
    "Resize": transforms.Resize,
    "RandomCrop": transforms.RandomCrop,
    "RandomResizedCrop": transforms.RandomResizedCrop,
    "MultiScaleCrop": transforms.MultiScaleCrop,
    "CenterCrop": transforms.CenterCrop,
    "ThreeCrop": transforms.ThreeCrop,
    "TenCrop": transforms.TenCrop,
    "Flip": transforms.Flip,
    "ColorJitter": transforms.ColorJitter,
    "Normalize": transforms.Normalize,
    "FormatShape": transforms.FormatShape,
}
"""Core's own pipeline steps by config name. Plugins add steps through the registry (kind ``"transform"``)."""


class Compose:
    """Run steps in order on a results dict; a step may return None to drop the sample (then so does this)."""

    def __init__(self, steps: Iterable[Transform]) -> None:
        self.steps = list(steps)
        options: dict[str, Any] = {}
        for step in self.steps:
            options.update(getattr(step, "media_options", {}) or {})
        self.media_options = options

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        # Readers are opened by the first step that needs them (often the sampler), so they must know the
        # decode step's options before any step runs.
        if self.media_options:
            results.setdefault("media_options", self.media_options)
        for step in self.steps:
            out = step(results)
            if out is None:
                return None
            results = out
        return results

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(s) for s in self.steps)
        return f"Compose([\n    {inner}\n])"


def _resolve(name: str) -> Callable[..., Transform]:
    if name in TRANSFORMS:
        return TRANSFORMS[name]
    from action_core import get_registry
    from action_core.errors import RegistryError

    try:
        return get_registry().get("transform", name).load()
    except RegistryError as e:
        close = difflib.get_close_matches(name, list(TRANSFORMS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown pipeline step type {name!r}: not one of core's steps ({', '.join(TRANSFORMS)}) "
            f"and not a registered transform ({e}).{hint}"
        ) from e


def build_transform(step: Mapping[str, Any] | Transform, *, position: int | None = None) -> Transform:
    """Build one step from ``{"type": name, **kwargs}``; a callable is returned as is."""
    where = f"pipeline step {position}" if position is not None else "pipeline step"
    if callable(step):
        return step
    if not isinstance(step, Mapping) or "type" not in step:
        raise ConfigError(f"{where} must be a table with a 'type' key, got {step!r}")
    kwargs = dict(step)
    name = kwargs.pop("type")
    cls = _resolve(name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where} ({name}): invalid arguments {kwargs!r}: {e}") from e


def build_pipeline(steps: Iterable[Mapping[str, Any] | Transform]) -> Compose:
    """Build a pipeline from a list of ``{"type": name, **kwargs}`` dicts (or ready callables)."""
    return Compose(build_transform(step, position=i) for i, step in enumerate(steps))
