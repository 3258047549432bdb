"""Every TSN model is composed from registered parts: the shorthand builder and its expansion build the same
model, and the presets expanded by ``action-run config show --expand`` build what the shorthand builds."""

import tomllib

import pytest
import torch

from action_core.api import (
    BCELossWithLogits,
    ExperimentConfig,
    build_model,
    compose_model,
    expand_model,
    find_published_weights,
    get_registry,
    load_plugin,
    run_cli,
)
from action_tsn.models import TSN_WEIGHTS
from action_tsn.partial_bn import FixedBatchNorm2d

MODELS = ["tsn_r18", "tsn_r34", "tsn_r50", "tsn_r101"]
assert load_plugin("tsn")
PRESETS = sorted(e.name for e in get_registry().entries("preset") if e.plugin == "tsn")


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", MODELS)
def test_shorthand_and_its_expansion_build_the_same_model(name):
    kwargs = {"num_classes": 7, "num_segments": 5, "dropout_ratio": 0.3, "multi_label": True}
    description = expand_model(name, **kwargs)
    assert description["type"] == "Recognizer2D"
    assert description["backbone"]["type"] == "resnet2d" and description["head"]["type"] == "tsn_head"
    with torch.device("meta"):
        short = build_model(name, **kwargs)
        composed = compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.num_segments == short.num_segments == 5 and composed.input_format == "NTCHW"
    assert isinstance(composed.head.loss_fn, BCELossWithLogits)


def show(preset: str, capsys, *options: str) -> dict:
    assert run_cli(["config", "show", preset, "--set", "model.args.pretrained=false", *options]) == 0
    return tomllib.loads(capsys.readouterr().out)


def build(config: dict) -> torch.nn.Module:
    cfg = ExperimentConfig.from_dict(config)
    return compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_expand_into_the_model_the_shorthand_builds(preset, capsys):
    shorthand, expanded = show(preset, capsys), show(preset, capsys, "--expand")
    assert expanded["model"]["type"] == "Recognizer2D" and expanded["model"]["backbone"]["type"] == "resnet2d"
    with torch.device("meta"):
        short, composed = build(shorthand), build(expanded)
    assert layout(short) == layout(composed)
    assert composed.num_segments == short.num_segments == shorthand["model"]["args"]["num_segments"]


def test_partial_bn_is_a_backbone_argument():
    backbone = get_registry().load("backbone", "resnet2d")(depth=18, partial_bn=True)
    norms = [m for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert not isinstance(norms[0], FixedBatchNorm2d)
    assert all(isinstance(m, FixedBatchNorm2d) for m in norms[1:])


def test_published_checkpoints_are_found_through_the_model_they_fit():
    for name, info in TSN_WEIGHTS.items():
        found = find_published_weights(name)
        assert found is not None and found == (info, f"tsn_r{info.builder_kwargs['depth']}"), name
