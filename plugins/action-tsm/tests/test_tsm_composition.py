"""Every TSM model is composed from registered parts: the shorthand builder and its expansion build the same
model, the presets expanded by ``action-run config show --expand`` build what the shorthand builds, and the
expanded TSM-R50 Kinetics preset gives the shorthand's outputs with the same weights (issue #16)."""

import tomllib

import pytest
import torch
import torchvision

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
from action_tsm.models import TSM_WEIGHTS

MODELS = ["tsm_r18", "tsm_r34", "tsm_r50", "tsm_r101", "tsm_mobilenetv2"]
assert load_plugin("tsm")
PRESETS = sorted(e.name for e in get_registry().entries("preset") if e.plugin == "tsm")


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", MODELS)
def test_shorthand_and_its_expansion_build_the_same_model(name):
    kwargs = {"num_classes": 7, "num_segments": 4, "shift_div": 4, "dropout_ratio": 0.3, "multi_label": True}
    description = expand_model(name, **kwargs)
    assert description["type"] == "Recognizer2D" and description["head"]["type"] == "tsm_head"
    assert description["backbone"]["type"] == ("mobilenetv2_tsm" if "mobilenet" in name else "resnet_tsm")
    with torch.device("meta"):
        short = build_model(name, **kwargs)
        composed = compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.num_segments == short.num_segments == 4 and composed.input_format == "NTCHW"
    assert isinstance(composed.head.loss_fn, BCELossWithLogits)


def show(preset: str, capsys, *options: str) -> dict:
    assert run_cli(["config", "show", preset, *options]) == 0
    return tomllib.loads(capsys.readouterr().out)


def build(config: dict) -> torch.nn.Module:
    cfg = ExperimentConfig.from_dict(config)
    return compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_expand_into_the_model_the_shorthand_builds(preset, capsys):
    no_download = ("--set", "model.args.pretrained=false")
    shorthand, expanded = show(preset, capsys, *no_download), show(preset, capsys, *no_download, "--expand")
    assert expanded["model"]["type"] == "Recognizer2D" and expanded["model"]["head"]["type"] == "tsm_head"
    published = shorthand["model"]["args"].pop("weights", None)
    assert expanded["model"]["args"].pop("weights", None) == published  # loaded once the model is built
    with torch.device("meta"):
        short, composed = build(shorthand), build(expanded)
    assert layout(short) == layout(composed)
    assert composed.num_segments == short.num_segments == shorthand["model"]["args"]["num_segments"]


def test_expanded_tsm_r50_kinetics_preset_gives_the_shorthands_outputs(capsys, tmp_path, monkeypatch):
    # The preset initialises the backbone from ImageNet (pretrained = true): a stand-in ResNet-50 file in the
    # hub cache gives both builds the same backbone weights without a download.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    url = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(
        torchvision.models.resnet50().state_dict(), tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[-1]
    )

    preset = "tsm_r50_1x1x8_50e_kinetics400_rgb"
    expanded = show(preset, capsys, "--expand")
    model = expanded["model"]
    assert model["backbone"] == {
        "type": "resnet_tsm",
        "depth": 50,
        "pretrained": True,
        "num_segments": 8,
        "shift_div": 8,
        "shift_place": "blockres",
        "temporal_pool": False,
        "is_shift": True,
        "norm_eval": False,
        "frozen_stages": -1,
    }
    assert model["head"]["type"] == "tsm_head" and model["head"]["in_channels"] == 2048
    short, composed = build(show(preset, capsys)), build(expanded)
    torch.testing.assert_close(
        composed.backbone.layer4[2].conv3.weight, short.backbone.layer4[2].conv3.weight
    )
    composed.load_state_dict(short.state_dict())  # the same head too (it is initialised at random)
    x = torch.randn(2, 8, 3, 32, 32)
    short.eval(), composed.eval()
    with torch.no_grad():
        assert torch.equal(composed(x), short(x))


def test_published_checkpoints_are_found_through_the_model_they_fit():
    for name, info in TSM_WEIGHTS.items():
        found = find_published_weights(name)
        assert found is not None and found == (info, f"tsm_r{info.builder_kwargs['depth']}"), name
