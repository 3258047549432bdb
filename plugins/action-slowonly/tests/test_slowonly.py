import json
import shutil
from pathlib import Path

import pytest
import torch

from action_core.api import (
    compose_model,
    expand_model,
    find_published_weights,
    get_registry,
    load_preset,
    load_weights,
)
from action_slowonly import WEIGHTS, convert_pytorchvideo_slow, slowonly_r50, slowonly_r50_parts
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def test_parameter_count_equals_mmaction2():
    assert sum(p.numel() for p in slowonly_r50(num_classes=400).parameters()) == 32_454_096


def test_architecture_follows_the_mmaction2_config():
    backbone = slowonly_r50(num_classes=10, base_channels=4).backbone
    assert backbone.conv1.conv.kernel_size == (1, 7, 7) and not backbone.with_pool2
    temporal = [
        {block.conv1.conv.kernel_size[0] for block in getattr(backbone, n)} for n in backbone.res_layers
    ]
    assert temporal == [{1}, {1}, {3}, {3}]
    clip = torch.randn(1, 3, 8, 32, 32)
    assert backbone.eval()(clip).shape[2] == 8  # no temporal down-sampling


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_slowonly_r50_tiny.pt", weights_only=True)
    model = slowonly_r50(num_classes=5, base_channels=4)
    assert load_weights(model, reference, converter="mmaction2_slowonly").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_train_step_updates_weights():
    model = slowonly_r50(num_classes=3, base_channels=4).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.head.fc_cls.weight.detach().clone()
    loss = model.loss(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([0, 2]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss) and not torch.equal(before, model.head.fc_cls.weight)


class TestConformance(PluginConformance):
    plugin = "slowonly"


@pytest.mark.parametrize(
    ("fixture", "converter"),
    [("mmaction2_slowonly_r50", "mmaction2_slowonly"), ("pytorchvideo_slow_r50", "pytorchvideo_slow")],
)
def test_full_size_checkpoint_layouts_map_onto_slowonly_r50(fixture, converter):
    shapes = json.loads((FIXTURES / f"{fixture}_keys.json").read_text())
    with torch.device("meta"):  # shapes only
        model = slowonly_r50(num_classes=400)
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
    assert load_weights(model, checkpoint, converter=converter).ok


def test_logits_equal_pytorchvideo_slow_r50_with_converted_weights():
    reference = torch.load(FIXTURES / "pytorchvideo_slow_r50_tiny.pt", weights_only=True)
    model = slowonly_r50(num_classes=5, base_channels=4)
    assert load_weights(model, reference["state_dict"], converter="pytorchvideo_slow").ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_weights_argument_finds_the_converter_that_fits(tmp_path):
    # a PyTorchVideo file: no converter named, the registered one whose output fits the model is used
    reference = torch.load(FIXTURES / "pytorchvideo_slow_r50_tiny.pt", weights_only=True)
    path = tmp_path / "slow_r50.pyth"
    torch.save(reference["state_dict"], path)
    model = slowonly_r50(num_classes=5, base_channels=4, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_pyslowfast_files_keep_the_weights_under_model_state():
    reference = torch.load(FIXTURES / "pytorchvideo_slow_r50_tiny.pt", weights_only=True)
    state, unconverted = convert_pytorchvideo_slow({"model_state": reference["state_dict"]})
    assert unconverted == () and list(state) == list(convert_pytorchvideo_slow(reference["state_dict"])[0])


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["slowonly_r50_4x16x1_kinetics400_mmaction2"]
    assert find_published_weights(info.name) == (info, "slowonly_r50")
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_slowonly_r50_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = slowonly_r50(num_classes=5, base_channels=4, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_classes": 7, "base_channels": 4, "dropout_ratio": 0.3, "init_std": 0.02, "norm_eval": True}],
)
def test_shorthand_equals_its_composition(kwargs):
    description = expand_model("slowonly_r50", **kwargs)
    assert description == slowonly_r50_parts(**kwargs)
    assert (
        description["backbone"]["type"] == "resnet3d_slowonly" and description["head"]["type"] == "i3d_head"
    )
    with torch.device("meta"):
        short, composed = slowonly_r50(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.input_format == "NCTHW" and composed.head.dropout.p == kwargs.get("dropout_ratio", 0.5)


@pytest.mark.parametrize(
    "preset", ["slowonly_r50_4x16x1_256e_kinetics400_rgb", "slowonly_r50_8x8x1_256e_kinetics400_rgb"]
)
def test_preset_expands_into_the_same_model(preset, config_show, config_model):
    expanded = config_show(preset, expand=True)
    assert expanded["model"]["backbone"]["type"] == "resnet3d_slowonly"
    with torch.device("meta"):
        short, composed = config_model(config_show(preset)), config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == 32_454_096


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = ("model.args.base_channels=4", "model.num_classes=5")
    preset = "slowonly_r50_4x16x1_256e_kinetics400_rgb"
    short = config_model(config_show(preset, *tiny)).eval()
    composed = config_model(config_show(preset, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "slowonly_r50" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "slowonly" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
