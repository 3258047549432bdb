import json
import shutil
from pathlib import Path

import pytest
import torch

import action_core
from action_c3d import (
    C3D,
    WEIGHTS,
    c3d,
    c3d_backbone,
    c3d_parts,
    convert_mmaction2,
    export_mmaction2,
)
from action_core.api import (
    CheckpointMismatchError,
    WeightsError,
    compose_model,
    count_flops,
    expand_model,
    export_model,
    find_published_weights,
    get_registry,
    load_preset,
    load_weights,
)
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"
NARROW = {"widths": (4, 8, 8, 16, 16), "fc_channels": 32}
TINY = {"num_classes": 5, **NARROW, "out_dim": 16}  # 16x16x16 clips


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_equals_mmaction2():
    with torch.device("meta"):  # 78 M parameters: count them without allocating
        assert n_params(c3d()) == 78_409_573  # 101 UCF101 classes by default
        assert n_params(c3d(num_classes=400)) == 78_409_573 + 299 * 4097


def test_architecture_follows_the_mmaction2_config():
    with torch.device("meta"):
        model = c3d()
    backbone = model.backbone
    assert [backbone.conv1a.conv.out_channels, backbone.conv5b.conv.out_channels] == [64, 512]
    assert backbone.conv1a.conv.bias is not None and backbone.conv1a.conv.kernel_size == (3, 3, 3)
    assert backbone.pool1.kernel_size == (1, 2, 2) and backbone.pool5.padding == (0, 1, 1)
    assert backbone.fc6.in_features == 8192 and backbone.fc7.out_features == 4096
    assert backbone.dropout.p == 0.5 and model.head.dropout.p == 0.5 and model.head.avg_pool is None
    assert model.clip_len == 16


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_c3d_tiny.pt", weights_only=True)
    model = c3d(num_classes=5, **NARROW, out_dim=64)  # 16x32x32 clips: 16 channels x 1 x 2 x 2 after pool5
    assert load_weights(model, reference, converter="mmaction2_c3d").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_weights_argument_and_export_round_trip():
    path = FIXTURES / "mmaction2_c3d_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = c3d(num_classes=5, **NARROW, out_dim=64, weights=str(path)).eval()
    assert model.weights_report.ok
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    assert set(export_mmaction2(model)) == set(reference["state_dict"])
    with pytest.raises(CheckpointMismatchError, match="fc6"):
        c3d(num_classes=5, **NARROW, out_dim=16, weights=str(path))
    with pytest.raises(WeightsError, match="no_such_weights"):
        c3d(**TINY, weights="no_such_weights")


def test_backbone_checkpoint_loads_with_or_without_prefix(tmp_path):
    reference = torch.load(FIXTURES / "mmaction2_c3d_tiny.pt", weights_only=True)
    backbone_state = {
        k[len("backbone.") :]: v for k, v in reference["state_dict"].items() if k.startswith("backbone.")
    }
    path = tmp_path / "sports1m.pth"
    # the Sports-1M classifier (487 classes) is not part of the backbone: reported, not loaded
    torch.save({"state_dict": {**backbone_state, "fc8.weight": torch.zeros(487, 32)}}, path)
    backbone = c3d_backbone(pretrained=str(path), **NARROW, out_dim=64)
    assert backbone.pretrained_report.unconverted == ("fc8.weight",)
    torch.testing.assert_close(backbone.fc6.weight, backbone_state["fc6.weight"])
    prefixed = {f"backbone.{k}": v for k, v in backbone_state.items()}
    torch.save(prefixed, path)
    assert c3d_backbone(pretrained=path, **NARROW, out_dim=64).pretrained_report.ok
    del prefixed["backbone.conv3b.conv.bias"]
    torch.save(prefixed, path)
    with pytest.raises(CheckpointMismatchError, match="conv3b.conv.bias"):
        c3d_backbone(pretrained=path, **NARROW, out_dim=64)


def test_full_size_checkpoint_layout_maps_onto_c3d():
    shapes = json.loads((FIXTURES / "mmaction2_c3d_keys.json").read_text())
    with torch.device("meta"):
        model = c3d()
        checkpoint = {"state_dict": {k: torch.zeros(s) for k, s in shapes.items()}}
    converted, unconverted = convert_mmaction2(checkpoint)
    assert unconverted == ()
    assert {k: tuple(v.shape) for k, v in converted.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()
    }


def test_wrong_input_size_is_explained():
    model = c3d(**TINY).eval()
    with pytest.raises(ValueError, match="out_dim=16"):
        model(torch.zeros(1, 3, 16, 32, 32))
    with pytest.raises(ValueError, match="five widths"):
        C3D(widths=(4, 8))


def test_components_compose_through_the_registry():
    backbone = action_core.build("backbone", "c3d", **NARROW, out_dim=16)
    head = action_core.build("head", "c3d_head", num_classes=3, in_channels=backbone.feat_dim)
    assert head.avg_pool is None
    assert head(backbone(torch.randn(2, 3, 16, 16, 16))).shape == (2, 3)


def test_flops_match_the_mmaction2_model_zoo():
    # metafile.yml: 38.5 G (multiply-accumulates) for one 16x112x112 clip; convolutions and linear layers
    # are all MMAction2 counts for this network (it has no batch norm), so count_flops reproduces it.
    with torch.device("meta"):
        report = count_flops(c3d(), (1, 3, 16, 112, 112))
    assert abs(report.macs / 1e9 - 38.5) / 38.5 <= 0.02, report.macs


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_matches_eager(tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    report = export_model(c3d(**TINY), tmp_path / f"c3d.{fmt}", format=fmt, input_shape=(1, 3, 16, 16, 16))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


class TestConformance(PluginConformance):
    plugin = "c3d"


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["c3d_16x1x1_ucf101_split1_mmaction2"]
    assert find_published_weights(info.name) == (info, "c3d")
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_c3d_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = c3d(num_classes=5, **NARROW, out_dim=64, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("kwargs", [{}, {**TINY, "dropout_ratio": 0.2, "fc_dropout_ratio": 0.1}])
def test_shorthand_equals_its_composition(kwargs):
    description = expand_model("c3d", **kwargs)
    assert description == c3d_parts(**kwargs)
    assert description["backbone"]["type"] == "c3d" and description["head"]["type"] == "c3d_head"
    with torch.device("meta"):
        short, composed = c3d(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.clip_len == short.clip_len == 16 and composed.head.avg_pool is None


PRESET = "c3d_sports1m_16x1x1_45e_ucf101_split1_rgb"
NO_DOWNLOAD = "model.args.pretrained=false"  # the preset starts from MMAction2's Sports-1M backbone


def test_preset_expands_into_the_same_model(config_show, config_model):
    expanded = config_show(PRESET, NO_DOWNLOAD, expand=True)
    assert expanded["model"]["head"]["type"] == "c3d_head"
    with torch.device("meta"):
        short, composed = config_model(config_show(PRESET, NO_DOWNLOAD)), config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == 78_409_573


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = (
        NO_DOWNLOAD,
        "model.num_classes=5",
        "model.args.widths=[4, 8, 8, 16, 16]",
        "model.args.out_dim=16",
        "model.args.fc_channels=32",
    )
    short = config_model(config_show(PRESET, *tiny)).eval()
    composed = config_model(config_show(PRESET, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(2, 3, 16, 16, 16)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "c3d" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "c3d" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
