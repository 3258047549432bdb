import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

import action_core
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
from action_csn import (
    WEIGHTS,
    InteractionPreservedConv3d,
    ResNet3dCSN,
    csn_backbone,
    export_mmaction2,
    ircsn_r152,
    ircsn_r152_parts,
)
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"
TINY = {"num_classes": 5, "depth": 50, "base_channels": 4}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_mmaction2():
    assert n_params(ircsn_r152(num_classes=400)) == 29_703_568
    assert n_params(ircsn_r152(num_classes=400, bottleneck_mode="ip")) == 33_016_592  # ip-CSN-152: 33.02 M


def test_architecture_follows_the_mmaction2_config():
    backbone = ircsn_r152().backbone
    assert isinstance(backbone, ResNet3dCSN) and backbone.stage_blocks == (3, 8, 36, 3)
    assert backbone.conv1.conv.kernel_size == (3, 7, 7) and backbone.conv1.conv.groups == 1
    block = backbone.layer3[0]
    assert block.conv1.conv.kernel_size == (1, 1, 1)
    assert block.conv2.conv.kernel_size == (3, 3, 3) and block.conv2.conv.groups == 256
    assert block.conv2.conv.stride == (2, 2, 2) and block.downsample.conv.stride == (2, 2, 2)
    assert all(m.eps == 1e-3 for m in backbone.modules() if isinstance(m, nn.BatchNorm3d))
    assert not backbone.with_pool2
    ip_block = ircsn_r152(bottleneck_mode="ip").backbone.layer1[1]
    assert isinstance(ip_block.conv2.conv, InteractionPreservedConv3d)
    assert ip_block.conv2.conv.depthwise.groups == 64 and ip_block.conv2.conv.norm.eps == 1e-3


@pytest.mark.parametrize(("fixture", "mode"), [("ircsn_r50_tiny", "ir"), ("ipcsn_r50_tiny", "ip")])
def test_logits_equal_mmaction2_with_converted_weights(fixture, mode):
    reference = torch.load(FIXTURES / f"mmaction2_{fixture}.pt", weights_only=True)
    model = ircsn_r152(**TINY, bottleneck_mode=mode)
    assert load_weights(model, reference, converter="mmaction2_csn").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)
    assert set(export_mmaction2(model)) == set(reference["state_dict"])


def test_checkpoint_of_the_other_form_is_refused():
    reference = torch.load(FIXTURES / "mmaction2_ipcsn_r50_tiny.pt", weights_only=True)
    with pytest.raises(CheckpointMismatchError, match="pointwise"):
        load_weights(ircsn_r152(**TINY), reference, converter="mmaction2_csn")


def test_weights_argument_and_backbone_checkpoint(tmp_path):
    path = FIXTURES / "mmaction2_ircsn_r50_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = ircsn_r152(**TINY, weights=str(path)).eval()
    assert model.weights_report.ok
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(WeightsError, match="no_such_weights"):
        ircsn_r152(**TINY, weights="no_such_weights")
    # a backbone-only file, as MMAction2's IG-65M one, with a pre-training classifier that is not loaded
    backbone_state = {k: v for k, v in reference["state_dict"].items() if k.startswith("backbone.")}
    torch.save({"state_dict": {**backbone_state, "fc.weight": torch.zeros(3, 128)}}, tmp_path / "ig65m.pth")
    backbone = csn_backbone(depth=50, base_channels=4, pretrained=str(tmp_path / "ig65m.pth"))
    assert backbone.pretrained_report.unconverted == ("fc.weight",)
    assert torch.equal(
        backbone.layer2[0].conv2.conv.weight, backbone_state["backbone.layer2.0.conv2.0.conv.weight"]
    )
    torch.save({"state_dict": {"conv1.conv.weight": torch.zeros(4, 3, 3, 7, 7)}}, tmp_path / "partial.pth")
    with pytest.raises(CheckpointMismatchError, match="missing"):
        csn_backbone(depth=50, base_channels=4, pretrained=str(tmp_path / "partial.pth"))


def test_full_size_checkpoint_layout_maps_onto_ircsn_r152():
    shapes = json.loads((FIXTURES / "mmaction2_ircsn_r152_keys.json").read_text())
    with torch.device("meta"):  # shapes only
        model = ircsn_r152(num_classes=400)
        checkpoint = {"state_dict": {k: torch.zeros(s) for k, s in shapes.items()}}
    assert load_weights(model, checkpoint, converter="mmaction2_csn").ok


def test_bn_frozen_keeps_batch_norm_fixed_while_training():
    backbone = csn_backbone(depth=50, base_channels=4, norm_eval=True, bn_frozen=True).train()
    norms = [m for m in backbone.modules() if isinstance(m, nn.BatchNorm3d)]
    assert not any(m.training for m in norms)
    assert not any(p.requires_grad for m in norms for p in m.parameters())
    assert all(m.weight.requires_grad for m in backbone.modules() if isinstance(m, nn.Conv3d))
    plain = csn_backbone(depth=50, base_channels=4, norm_eval=True).train()
    assert all(p.requires_grad for p in plain.parameters())


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="bottleneck_mode"):
        ResNet3dCSN(50, bottleneck_mode="xy")
    with pytest.raises(ValueError, match="depth must be 50, 101 or 152"):
        ResNet3dCSN(18)
    with pytest.raises(ValueError, match="IG-65M ir-CSN-152"):
        csn_backbone(depth=50, pretrained=True)


def test_components_compose_through_the_registry():
    backbone = action_core.build("backbone", "resnet3d_csn", depth=50, base_channels=4).eval()
    head = action_core.build("head", "i3d_head", num_classes=3, in_channels=backbone.feat_dim)
    assert head(backbone(torch.randn(1, 3, 8, 32, 32))).shape == (1, 3)


def test_flops_match_the_mmaction2_model_zoo():
    # metafile.yml: 97.63 G (multiply-accumulates, mmengine's analyzer) for one 32x256x256 view; count_flops
    # gives the convolutions and the classifier (96.71 G), mmengine adds 2 per element for batch norm.
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        report = count_flops(ircsn_r152(num_classes=400), (1, 3, 32, 256, 256))
    assert abs(report.macs / 1e9 - 97.63) / 97.63 <= 0.02, report.macs
    assert report.macs / 1e9 < 97.63


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_matches_eager(tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    model = ircsn_r152(**TINY)
    report = export_model(model, tmp_path / f"csn.{fmt}", format=fmt, input_shape=(1, 3, 8, 32, 32))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


class TestConformance(PluginConformance):
    plugin = "csn"


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["ircsn_r152_ig65m_bnfrozen_32x2x1_kinetics400_mmaction2"]
    assert find_published_weights(info.name) == (info, "ircsn_r152")
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_ircsn_r50_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = ircsn_r152(**TINY, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"bottleneck_mode": "ip", "norm_eval": True, "bn_frozen": True},
        {**TINY, "dropout_ratio": 0.2, "frozen_stages": 2},
    ],
)
def test_shorthand_equals_its_composition(kwargs):
    description = expand_model("ircsn_r152", **kwargs)
    assert description == ircsn_r152_parts(**kwargs)
    assert description["backbone"]["type"] == "resnet3d_csn" and description["head"]["type"] == "i3d_head"
    with torch.device("meta"):
        short, composed = ircsn_r152(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.clip_len == short.clip_len == 32
    assert [p.requires_grad for p in short.parameters()] == [p.requires_grad for p in composed.parameters()]


PRESET = "ircsn_ig65m_pretrained_bnfrozen_r152_32x2x1_58e_kinetics400_rgb"
NO_DOWNLOAD = "model.args.pretrained=false"  # the preset starts from MMAction2's IG-65M backbone


def test_preset_expands_into_the_same_model(config_show, config_model):
    expanded = config_show(PRESET, NO_DOWNLOAD, expand=True)
    backbone = expanded["model"]["backbone"]
    assert backbone["type"] == "resnet3d_csn" and backbone["norm_eval"] and backbone["bn_frozen"]
    assert expanded["model"]["args"]["clip_len"] == 32
    with torch.device("meta"):
        short, composed = config_model(config_show(PRESET, NO_DOWNLOAD)), config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == 29_703_568
    assert [p.requires_grad for p in short.parameters()] == [p.requires_grad for p in composed.parameters()]


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = (NO_DOWNLOAD, "model.args.depth=50", "model.args.base_channels=4", "model.num_classes=5")
    short = config_model(config_show(PRESET, *tiny)).eval()
    composed = config_model(config_show(PRESET, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "ircsn_r152" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "csn" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
