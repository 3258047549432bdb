import json
import shutil
from pathlib import Path

import pytest
import torch
import torchvision

from action_core.api import (
    CheckpointMismatchError,
    WeightsError,
    compose_model,
    expand_model,
    find_published_weights,
    get_registry,
    load_preset,
    load_weights,
)
from action_i3d import WEIGHTS, i3d_r50, i3d_r50_parts
from action_resnet3d import NonLocal3d
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_equals_mmaction2():
    assert n_params(i3d_r50(num_classes=400)) == 28_043_472
    assert n_params(i3d_r50(num_classes=400, non_local="dot_product")) == 35_397_840


def test_architecture_follows_the_mmaction2_config():
    model = i3d_r50(num_classes=400)
    backbone = model.backbone
    assert backbone.conv1.conv.kernel_size == (5, 7, 7) and backbone.conv1.conv.stride == (2, 2, 2)
    assert backbone.maxpool.stride == (2, 2, 2) and backbone.with_pool2
    temporal = [
        [block.conv1.conv.kernel_size[0] for block in getattr(backbone, n)] for n in backbone.res_layers
    ]
    assert temporal == [[3, 3, 3], [3, 1, 3, 1], [3, 1, 3, 1, 3, 1], [1, 3, 1]]
    assert model.head.dropout.p == 0.5 and model.input_format == "NCTHW"


@pytest.mark.parametrize(
    ("fixture", "non_local"),
    [
        ("i3d_r50_tiny", None),
        ("i3d_r50_nl_dot_product_tiny", "dot_product"),
        ("i3d_r50_nl_embedded_gaussian_tiny", "embedded_gaussian"),
    ],
)
def test_logits_equal_mmaction2_with_converted_weights(fixture, non_local):
    reference = torch.load(FIXTURES / f"mmaction2_{fixture}.pt", weights_only=True)
    model = i3d_r50(num_classes=5, base_channels=4, non_local=non_local)
    assert load_weights(model, reference, converter="mmaction2_i3d").ok
    if non_local:
        assert sum(isinstance(m, NonLocal3d) for m in model.modules()) == 5
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_weights_argument_loads_an_mmaction2_file():
    path = FIXTURES / "mmaction2_i3d_r50_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = i3d_r50(num_classes=5, base_channels=4, weights=str(path)).eval()
    assert model.weights_report.ok
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="non_local_block"):
        i3d_r50(num_classes=5, base_channels=4, non_local="dot_product", weights=str(path))
    with pytest.raises(WeightsError, match="no_such_weights"):
        i3d_r50(weights="no_such_weights")


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["i3d_r50_32x2x1_kinetics400_mmaction2"]
    assert find_published_weights(info.name) == (info, "i3d_r50")
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_i3d_r50_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = i3d_r50(num_classes=5, base_channels=4, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_imagenet_inflation_fills_every_backbone_unit(tmp_path):
    path = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    model = i3d_r50(num_classes=400, pretrained=str(path))
    report = model.backbone.inflation_report
    assert report.not_inflated == () and report.unused_2d == ("fc.bias", "fc.weight")


class TestConformance(PluginConformance):
    plugin = "i3d"


def test_full_size_mmaction2_checkpoint_layout_maps_onto_i3d_r50():
    shapes = json.loads((FIXTURES / "mmaction2_i3d_r50_keys.json").read_text())
    with torch.device("meta"):  # shapes only
        model = i3d_r50(num_classes=400)
        checkpoint = {"state_dict": {k: torch.zeros(s) for k, s in shapes.items()}}
    assert load_weights(model, checkpoint, converter="mmaction2_i3d").ok


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_classes": 5, "non_local": "embedded_gaussian"},
        {"num_classes": 7, "base_channels": 4, "dropout_ratio": 0.3, "init_std": 0.02, "frozen_stages": 1},
    ],
)
def test_shorthand_equals_its_composition(kwargs):
    description = expand_model("i3d_r50", **kwargs)
    assert description == i3d_r50_parts(**kwargs)
    assert description["backbone"]["type"] == "resnet3d_i3d" and description["head"]["type"] == "i3d_head"
    with torch.device("meta"):
        short, composed = i3d_r50(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.input_format == "NCTHW" and composed.head.dropout.p == kwargs.get("dropout_ratio", 0.5)
    assert [p.requires_grad for p in short.parameters()] == [p.requires_grad for p in composed.parameters()]


@pytest.mark.parametrize(
    "preset", ["i3d_r50_32x2x1_100e_kinetics400_rgb", "i3d_r50_8x8x1_100e_kinetics400_rgb"]
)
def test_preset_expands_into_the_same_model(preset, config_show, config_model):
    no_download = "model.args.pretrained=false"  # the presets inflate torchvision's ImageNet weights
    expanded = config_show(preset, no_download, expand=True)
    assert expanded["model"]["type"] == "Recognizer3D"
    assert expanded["model"]["backbone"]["type"] == "resnet3d_i3d"
    with torch.device("meta"):
        short = config_model(config_show(preset, no_download))
        composed = config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == 28_043_472


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = ("model.args.pretrained=false", "model.args.base_channels=4", "model.num_classes=5")
    preset = "i3d_r50_32x2x1_100e_kinetics400_rgb"
    short = config_model(config_show(preset, *tiny)).eval()
    composed = config_model(config_show(preset, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "i3d_r50" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "i3d" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
