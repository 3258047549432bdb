"""build_pipeline: config steps, helpful errors, and plugin steps from the registry."""

from __future__ import annotations

import pytest
import torch

from action_core.data import TRANSFORMS, Compose, build_pipeline
from action_core.errors import ConfigError


def test_every_core_step_is_in_the_table() -> None:
    expected = {
        "SampleFrames", "SegmentSampleFrames", "DenseSampleFrames", "UniformSample", "UniformSampleFrames",
        "DecodeFrames", "Resize", "RandomCrop", "RandomResizedCrop", "MultiScaleCrop", "CenterCrop",
        "ThreeCrop", "TenCrop", "Flip", "ColorJitter", "Normalize", "FormatShape",
    }  # fmt: skip
    assert set(TRANSFORMS) == expected


def test_unknown_step_suggests_a_name() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'CenterCrop'"):
        build_pipeline([{"type": "CentreCrop", "crop_size": 224}])


def test_bad_arguments_name_the_step() -> None:
    with pytest.raises(ConfigError, match=r"pipeline step 1 \(Resize\)"):
        build_pipeline([{"type": "CenterCrop", "crop_size": 8}, {"type": "Resize", "scael": 3}])
    with pytest.raises(ConfigError, match="'type' key"):
        build_pipeline([{"crop_size": 8}])


def test_registered_transform_from_a_plugin() -> None:
    from action_core import get_registry
    from action_core.registry import Entry

    registry = get_registry()
    registry.add(
        Entry(
            kind="transform",
            name="PluginCentreCrop",
            target="action_core.data.transforms:CenterCrop",
            plugin="t",
        )
    )
    try:
        pipe = build_pipeline([{"type": "PluginCentreCrop", "crop_size": 4}])
    finally:
        registry.remove_plugin("t")
    out = pipe({"imgs": torch.zeros(2, 3, 8, 8, dtype=torch.uint8)})
    assert out["imgs"].shape == (2, 3, 4, 4)


def test_compose_passes_decode_options_and_callables() -> None:
    pipe = build_pipeline([{"type": "DecodeFrames", "num_threads": 2, "short_side": 64}, lambda r: r])
    assert isinstance(pipe, Compose) and len(pipe.steps) == 2
    results = pipe.__class__(pipe.steps[1:])({})
    assert "media_options" not in results
    assert pipe.media_options == {"num_threads": 2, "short_side": 64, "autorotate": True}
