"""Every first-party preset expands into a model composed from registered parts, and that composition builds
the same model as the preset: the same parameter names, shapes and counts (issue 16's bar)."""

from __future__ import annotations

import pytest
import torch

import action_core as ac
from action_core.api import ExperimentConfig, load_source
from action_core.cli.components import expanded_model_table
from action_core.engine.builders import build_model_from_config
from action_core.models.compose import without_downloads

ac.get_host().load_all()
PRESETS = [e.name for e in ac.get_registry().entries("preset")]


def _build(data: dict) -> torch.nn.Module:
    data = {**data, "model": without_downloads(data["model"])}
    with torch.device("meta"):
        return build_model_from_config(ExperimentConfig.from_dict(data))


@pytest.mark.parametrize("preset", PRESETS)
def test_the_expanded_preset_builds_the_same_model(preset):
    data = load_source(preset)
    expanded = {**data, "model": expanded_model_table(data["model"])}
    assert expanded["model"].get("backbone") or expanded["model"]["type"] == data["model"]["type"], (
        "a recognizer preset expands into parts"
    )
    short, composed = _build(data), _build(expanded)
    assert [(k, tuple(v.shape)) for k, v in short.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in composed.state_dict().items()
    ]
    assert sum(p.numel() for p in short.parameters()) == sum(p.numel() for p in composed.parameters())


def test_every_recognizer_preset_is_composed_of_parts():
    flat = []
    for preset in PRESETS:
        entry = ac.get_registry().get("preset", preset)
        if entry.spec.task != "recognition":
            continue
        table = expanded_model_table(load_source(preset)["model"])
        if not (table.get("backbone") and table.get("head")):
            flat.append(preset)
    assert flat == []
