import json
from pathlib import Path

import pytest
import torch

import action_core
from action_c3d import (
    C3D,
    c3d,
    c3d_backbone,
    convert_mmaction2,
    export_mmaction2,
    load_backbone,
    load_mmaction2,
)
from action_core.api import CheckpointMismatchError, count_flops, export_model
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
    assert load_mmaction2(model, reference).ok
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
    with pytest.raises(FileNotFoundError, match="known: c3d_16x1x1_ucf101_split1_mmaction2"):
        c3d(weights="no_such_weights")


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
    assert load_backbone(c3d_backbone(**NARROW, out_dim=64), prefixed).ok
    del prefixed["backbone.conv3b.conv.bias"]
    with pytest.raises(CheckpointMismatchError, match="conv3b.conv.bias"):
        load_backbone(c3d_backbone(**NARROW, out_dim=64), prefixed, strict=False)


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
    head = action_core.build(
        "head", "i3d_head", num_classes=3, in_channels=backbone.feat_dim, spatial_type=None
    )
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
