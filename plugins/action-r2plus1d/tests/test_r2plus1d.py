import json
import shutil
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from action_core.api import (
    CheckpointMismatchError,
    compose_model,
    expand_model,
    find_published_weights,
    get_registry,
    load_preset,
    load_weights,
)
from action_r2plus1d import (
    R2PLUS1D_18_WEIGHTS,
    WEIGHTS,
    Conv2plus1d,
    convert_torchvision_r2plus1d,
    mid_channels,
    r2plus1d_18,
    r2plus1d_18_parts,
    r2plus1d_r34,
    r2plus1d_r34_parts,
)
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def randomize(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.25)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))


def test_parameter_counts():
    with torch.device("meta"):  # counts only
        assert n_params(r2plus1d_r34(num_classes=400)) == 63_759_281
        assert (
            n_params(r2plus1d_18(num_classes=400))
            == 31_505_325
            == n_params(torchvision.models.video.r2plus1d_18())
        )


def test_mid_channel_formula():
    # t d^2 N_in N_out / (d^2 N_in + t N_out), floored
    assert mid_channels(64, 64) == 144
    assert mid_channels(64, 128) == 230
    assert Conv2plus1d(3, 64, (3, 7, 7)).mid_channels == 83  # MMAction2's stem
    assert Conv2plus1d(64, 128, 1).mid_channels == 54  # MMAction2 factorises 1x1x1 shortcuts too


def test_mmaction2_form_keeps_its_norm_epsilons():
    backbone = r2plus1d_r34(num_classes=10, base_channels=2).backbone
    assert backbone.layer1[0].conv1.bn.eps == 1e-3
    assert backbone.layer1[0].conv1.conv.bn_s.eps == 1e-5


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_r2plus1d_r34_tiny.pt", weights_only=True)
    model = r2plus1d_r34(num_classes=5, base_channels=2)
    assert load_weights(model, reference, converter="mmaction2_r2plus1d").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("train", [False, True])
def test_r2plus1d_18_equals_torchvision_with_converted_weights(train):
    torch.manual_seed(0)
    reference = torchvision.models.video.r2plus1d_18(num_classes=7)
    randomize(reference)
    model = r2plus1d_18(num_classes=7)
    assert load_weights(model, reference.state_dict(), converter="torchvision_r2plus1d").ok
    reference.train(train)
    model.train(train)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=1e-4)


def test_torchvision_conversion_reports_foreign_keys():
    state = torchvision.models.video.r2plus1d_18(num_classes=7).state_dict()
    state["layer1.0.se.weight"] = torch.zeros(1)
    _, unconverted = convert_torchvision_r2plus1d(state)
    assert unconverted == ("layer1.0.se.weight",)
    with pytest.raises(CheckpointMismatchError, match="layer1.0.se.weight"):
        load_weights(r2plus1d_18(num_classes=7), state, converter="torchvision_r2plus1d")
    del state["layer1.0.se.weight"]
    with pytest.raises(CheckpointMismatchError, match="head.fc_cls.weight"):
        load_weights(r2plus1d_18(num_classes=400), state, converter="torchvision_r2plus1d")


class TestConformance(PluginConformance):
    plugin = "r2plus1d"


def test_full_size_mmaction2_checkpoint_layout_maps_onto_r2plus1d_r34():
    shapes = json.loads((FIXTURES / "mmaction2_r2plus1d_r34_keys.json").read_text())
    with torch.device("meta"):  # shapes only
        model = r2plus1d_r34(num_classes=400)
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
    assert load_weights(model, checkpoint, converter="mmaction2_r2plus1d").ok


def test_torchvision_weights_are_published_under_their_torchvision_url(tmp_path, monkeypatch):
    info = R2PLUS1D_18_WEIGHTS["r2plus1d_18_kinetics400_torchvision"]
    assert info.url == torchvision.models.video.R2Plus1D_18_Weights.KINETICS400_V1.url
    assert find_published_weights(info.name) == (info, "r2plus1d_18")
    # the file torchvision publishes is a bare state dict; a random one stands in for the download
    torch.manual_seed(0)
    reference = torchvision.models.video.r2plus1d_18()
    randomize(reference)
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    torch.save(reference.state_dict(), cached)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    model = r2plus1d_18(weights=info.name).eval()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference.eval()(x), rtol=0, atol=1e-4)


def test_published_mmaction2_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["r2plus1d_r34_8x8x1_kinetics400_mmaction2"]
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_r2plus1d_r34_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = r2plus1d_r34(num_classes=5, base_channels=2, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    ("name", "build", "parts", "kwargs", "backbone"),
    [
        ("r2plus1d_r34", r2plus1d_r34, r2plus1d_r34_parts, {}, "resnet2plus1d"),
        (
            "r2plus1d_r34",
            r2plus1d_r34,
            r2plus1d_r34_parts,
            {"num_classes": 5, "base_channels": 2},
            "resnet2plus1d",
        ),
        ("r2plus1d_18", r2plus1d_18, r2plus1d_18_parts, {}, "resnet2plus1d_torchvision"),
        (
            "r2plus1d_18",
            r2plus1d_18,
            r2plus1d_18_parts,
            {"num_classes": 7, "dropout_ratio": 0.5},
            "resnet2plus1d_torchvision",
        ),
    ],
)
def test_shorthand_equals_its_composition(name, build, parts, kwargs, backbone):
    description = expand_model(name, **kwargs)
    assert description == parts(**kwargs)
    assert description["backbone"]["type"] == backbone and description["head"]["type"] == "i3d_head"
    with torch.device("meta"):
        short, composed = build(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.head.in_channels == composed.backbone.feat_dim


@pytest.mark.parametrize(
    "preset", ["r2plus1d_r34_8x8x1_180e_kinetics400_rgb", "r2plus1d_r34_32x2x1_180e_kinetics400_rgb"]
)
def test_preset_expands_into_the_same_model(preset, config_show, config_model):
    expanded = config_show(preset, expand=True)
    assert expanded["model"]["backbone"]["type"] == "resnet2plus1d"
    with torch.device("meta"):
        short, composed = config_model(config_show(preset)), config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == 63_759_281


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = ("model.args.base_channels=2", "model.num_classes=5")
    preset = "r2plus1d_r34_8x8x1_180e_kinetics400_rgb"
    short = config_model(config_show(preset, *tiny)).eval()
    composed = config_model(config_show(preset, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "r2plus1d_18" if "_18_" in name else "r2plus1d_r34" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "r2plus1d" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
