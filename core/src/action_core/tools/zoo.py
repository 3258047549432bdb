"""The model zoo: the facts of every registered preset, computed from the installed plugins.

For each preset: task, dataset, the test clip (frames x interval x clips) and input size, the views of
multi-view testing, parameters and FLOPs of one view (counted by :func:`~action_core.tools.flops.count_flops`
on the meta device, so nothing is computed and nothing downloaded), the published checkpoint the preset
reproduces when its registration names one (with the metrics as published), and the command that tests it.
The documentation's model zoo page is generated from these rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from action_core.plugins.specs import PresetSpec

__all__ = ["PresetRow", "preset_rows"]


@attrs.frozen
class PresetRow:
    """One line of the model zoo."""

    name: str
    plugin: str
    task: str
    dataset: str
    model: str
    clip: str = ""
    input_size: str = ""
    views: str = ""
    params: int | None = None
    gmacs: float | None = None
    weights: str = ""
    metrics: Mapping[str, float] = attrs.field(factory=dict)
    note: str = ""

    @property
    def test_command(self) -> str:
        """How to test this preset."""
        checkpoint = self.weights or "CHECKPOINT"
        return f"action-run test {self.name} --checkpoint {checkpoint}"


def _first(pipeline: Sequence[Mapping[str, Any]], *types: str) -> Mapping[str, Any] | None:
    return next((step for step in pipeline if step.get("type") in types), None)


def _input_shape(model: Any, clip_len: int, clips: int, size: int) -> tuple[int, ...] | None:
    # One test view: a 2D model sees all the test clip's frames at once (TSN's 25 segments), a 3D model one
    # clip; MMAction2's model zoo counts FLOPs the same way.
    fmt = getattr(model, "input_format", "")
    if fmt == "NTCHW":
        return (1, clips * clip_len, 3, size, size)
    if fmt == "NCTHW":
        return (1, 3, int(getattr(model, "clip_len", 0) or clip_len), size, size)
    return None


def preset_rows(*, flops: bool = True) -> Iterator[PresetRow]:
    """A :class:`PresetRow` per registered preset (plugins loaded as needed)."""
    import torch

    from action_core.config import load_source
    from action_core.engine.builders import build_model_from_config
    from action_core.engine.schema import ExperimentConfig
    from action_core.models.compose import without_downloads
    from action_core.models.loading import find_published_weights
    from action_core.plugins.host import get_host
    from action_core.tools.flops import count_flops

    host = get_host()
    host.load_all()
    for entry in host.registry.entries("preset"):
        spec = entry.spec
        assert isinstance(spec, PresetSpec)
        try:
            cfg = ExperimentConfig.from_dict(load_source(entry.qualified_name), source=entry.name)
        except Exception as e:  # a broken preset is a finding shown in the zoo, never a failed page
            yield PresetRow(entry.name, entry.plugin, spec.task, spec.dataset, "?", note=f"invalid: {e}")
            continue
        test = cfg.data.test.pipeline
        sampler = _first(
            test, "SampleFrames", "SegmentSampleFrames", "DenseSampleFrames", "UniformSampleFrames"
        )
        crop = _first(test, "CenterCrop", "ThreeCrop", "TenCrop")
        clip_len = int(sampler.get("clip_len", 1)) if sampler else 1
        interval = int(sampler.get("frame_interval", 1)) if sampler else 1
        clips = int(sampler.get("num_clips", 1)) if sampler else 1
        size = int(crop.get("crop_size", 224)) if crop else 224
        crops = {"ThreeCrop": 3, "TenCrop": 10}.get(str(crop.get("type")) if crop else "", 1)
        row: dict[str, Any] = dict(
            name=entry.name,
            plugin=entry.plugin,
            task=spec.task,
            dataset=spec.dataset or cfg.data.dataset,
            model=cfg.model.type,
        )
        if spec.task == "recognition":
            row.update(
                clip=f"{clip_len}x{interval}x{clips}", input_size=f"{size}x{size}", views=f"{clips}x{crops}"
            )
        weights = getattr(spec, "weights", "")
        if weights:  # a name no catalogue holds keeps its row without metrics, which the docs tests reject
            published = find_published_weights(weights)
            metrics = {} if published is None else dict(published[0].meta.get("metrics", {}))
            row.update(weights=weights, metrics=metrics)
        try:
            data = cfg.to_dict()
            data["model"] = without_downloads(data["model"])
            with torch.device("meta"):
                model = build_model_from_config(ExperimentConfig.from_dict(data))
            row["params"] = sum(p.numel() for p in model.parameters())
            shape = _input_shape(model, clip_len, clips, size) if spec.task == "recognition" else None
            if flops and shape is not None:
                with torch.device("meta"):
                    row["gmacs"] = count_flops(model, shape).macs / 1e9
        except Exception as e:
            row["note"] = f"not counted: {type(e).__name__}: {e}"
        yield PresetRow(**row)
