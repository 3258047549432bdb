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
from action_testkit import PluginConformance
from action_x3d import (
    WEIGHTS,
    X3D,
    convert_pytorchvideo,
    export_mmaction2,
    x3d_m,
    x3d_m_parts,
    x3d_s,
    x3d_s_parts,
)

FIXTURES = Path(__file__).parent / "fixtures"
TINY = {"num_classes": 5, "mid_channels": 16, "gamma_w": 1 / 3, "gamma_d": 0.5}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_mmaction2_and_pytorchvideo():
    assert n_params(x3d_s(num_classes=400)) == 3_794_322
    assert n_params(x3d_m(num_classes=400)) == 3_794_322  # the same network on larger clips
    # PyTorchVideo's x3d_s / x3d_m: no BatchNorm on the stage-1 shortcut (24 -> 24 channels, stride 2)
    assert n_params(x3d_s(num_classes=400, strided_shortcut_norm=False)) == 3_794_274


def test_architecture_follows_the_mmaction2_config():
    model = x3d_s(num_classes=400)
    backbone = model.backbone
    assert backbone.stage_blocks == (3, 5, 11, 7) and backbone.feat_dim == 432
    assert backbone.conv1_s.conv.kernel_size == (1, 3, 3) and backbone.conv1_s.bn is None
    assert backbone.conv1_t.conv.kernel_size == (5, 1, 1) and backbone.conv1_t.conv.groups == 24
    widths = [getattr(backbone, name)[0].conv3.conv.out_channels for name in backbone.res_layers]
    assert widths == [24, 48, 96, 192]
    stage3 = backbone.layer3
    assert [block.se_module is not None for block in stage3] == [True, False] * 5 + [True]
    assert stage3[0].conv2.conv.groups == stage3[0].conv2.conv.in_channels == 216
    assert stage3[0].se_module.fc1.out_channels == 16  # round_width(216 / 16) -> 16
    assert model.head.fc1.bias is None and model.head.fc1.out_features == 2048
    assert model.head.dropout.p == 0.5 and model.clip_len == 13 and x3d_m().clip_len == 16


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_x3d_s_tiny.pt", weights_only=True)
    model = x3d_s(**TINY)
    assert load_weights(model, reference, converter="mmaction2_x3d").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_logits_equal_pytorchvideo_with_converted_weights():
    reference = torch.load(FIXTURES / "pytorchvideo_x3d_s_tiny.pt", weights_only=True)
    model = x3d_s(**TINY, strided_shortcut_norm=False)
    assert load_weights(model, reference["state_dict"], converter="pytorchvideo_x3d").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)
    # the hub model itself returns softmax probabilities
    torch.testing.assert_close(logits.softmax(dim=1), reference["probabilities"], rtol=0, atol=1e-4)


def test_pytorchvideo_weights_need_the_pytorchvideo_layout():
    reference = torch.load(FIXTURES / "pytorchvideo_x3d_s_tiny.pt", weights_only=True)
    with pytest.raises(CheckpointMismatchError, match="downsample.bn"):
        load_weights(x3d_s(**TINY), reference["state_dict"], converter="pytorchvideo_x3d")


def test_full_size_checkpoint_layouts_map_onto_our_builders():
    shapes = json.loads((FIXTURES / "mmaction2_x3d_s_keys.json").read_text())
    checkpoint = {"state_dict": {k: torch.zeros(s) for k, s in shapes.items()}}
    assert load_weights(x3d_s(num_classes=400), checkpoint, converter="mmaction2_x3d").ok
    assert load_weights(x3d_m(num_classes=400), checkpoint, converter="mmaction2_x3d").ok
    shapes = json.loads((FIXTURES / "pytorchvideo_x3d_s_keys.json").read_text())
    state = {k: torch.zeros(s) for k, s in shapes.items()}
    model = x3d_s(num_classes=400, strided_shortcut_norm=False)
    assert load_weights(model, state, converter="pytorchvideo_x3d").ok


def test_weights_argument_and_export_round_trip(tmp_path):
    path = FIXTURES / "mmaction2_x3d_s_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = x3d_s(**TINY, weights=str(path)).eval()
    assert model.weights_report.ok
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    exported = export_mmaction2(model)
    assert set(exported) == {k for k in reference["state_dict"] if not k.startswith("data_preprocessor")}
    with pytest.raises(WeightsError, match="no_such_weights"):
        x3d_s(**TINY, weights="no_such_weights")


def test_frozen_stages_and_norm_eval():
    backbone = X3D(gamma_w=1 / 3, gamma_d=0.5, frozen_stages=1, norm_eval=True)
    backbone.train()
    assert not any(p.requires_grad for p in backbone.conv1_t.parameters())
    assert not any(p.requires_grad for p in backbone.layer1.parameters())
    assert all(p.requires_grad for p in backbone.layer2.parameters())
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm3d))
    with pytest.raises(ValueError, match="se_style"):
        X3D(se_style="some")


def test_components_compose_through_the_registry():
    backbone = action_core.build("backbone", "x3d", gamma_w=1 / 3, gamma_d=0.5)
    head = action_core.build("head", "x3d_head", num_classes=3, in_channels=backbone.feat_dim, mid_channels=8)
    out = head(backbone(torch.randn(1, 3, 4, 32, 32)))
    assert out.shape == (1, 3)


# MMAction2's X3D figures (metafile.yml) are MMAction2 0.x / mmcv 1.x counts: convolutions and linear layers
# plus 2 per element for affine batch norm, 1 per ReLU output and 1 per pooled input element. They reproduce
# exactly with these shapes (X3D-S: 13x192x192; X3D-M: 16x256x256, MMAction2's test crop). count_flops gives
# the convolution/linear term, which for this depthwise network is ~4.8 % below the total, so the remaining
# terms are added by the same rules here.
def _mmcv_elementwise_terms(model, shape):
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            total += inputs[0].numel() * (2 if module.affine else 1)
        elif isinstance(module, nn.ReLU):
            total += output.numel()
        elif isinstance(module, (nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool3d)):
            total += inputs[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.zeros(shape))
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize(
    ("builder", "shape", "published"),
    [(x3d_s, (1, 3, 13, 192, 192), 2_967_543_760), (x3d_m, (1, 3, 16, 256, 256), 6_490_866_832)],
)
def test_flops_match_the_mmaction2_model_zoo(builder, shape, published):
    with torch.device("meta"):  # shapes only: no memory, no arithmetic
        model = builder(num_classes=400).eval()
        macs = count_flops(model, shape).macs
        total = macs + _mmcv_elementwise_terms(model, shape)
    assert abs(total - published) / published <= 0.02, f"{total / 1e9:.4f} G vs published {published / 1e9} G"
    assert 0.94 < macs / published < 0.96  # convolutions and linear layers alone


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_matches_eager(tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    model = x3d_s(**TINY)
    report = export_model(model, tmp_path / f"x3d.{fmt}", format=fmt, input_shape=(1, 3, 4, 32, 32))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


class TestConformance(PluginConformance):
    plugin = "x3d"


def test_pyslowfast_files_keep_the_weights_under_model_state():
    reference = torch.load(FIXTURES / "pytorchvideo_x3d_s_tiny.pt", weights_only=True)
    state, unconverted = convert_pytorchvideo({"model_state": reference["state_dict"]})
    assert unconverted == () and list(state) == list(convert_pytorchvideo(reference["state_dict"])[0])


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["x3d_s_13x6x1_kinetics400_mmaction2"]
    assert find_published_weights(info.name)[0] == info
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_x3d_s_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = x3d_s(**TINY, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    ("name", "build", "parts", "clip_len"),
    [("x3d_s", x3d_s, x3d_s_parts, 13), ("x3d_m", x3d_m, x3d_m_parts, 16)],
)
@pytest.mark.parametrize(
    "kwargs",
    [{}, {**TINY, "gamma_b": 3.0, "fc1_bias": True, "strided_shortcut_norm": False, "num_stages": 3}],
)
def test_shorthand_equals_its_composition(name, build, parts, clip_len, kwargs):
    description = expand_model(name, **kwargs)
    assert description == parts(**kwargs)
    assert description["backbone"]["type"] == "x3d" and description["head"]["type"] == "x3d_head"
    with torch.device("meta"):
        short, composed = build(**kwargs), compose_model(description)
    assert layout(short) == layout(composed)
    assert composed.clip_len == short.clip_len == clip_len
    assert composed.head.in_channels == composed.backbone.feat_dim


@pytest.mark.parametrize("preset", ["x3d_s_13x6x1_kinetics400_rgb", "x3d_m_16x5x1_kinetics400_rgb"])
def test_preset_expands_into_the_same_model(preset, config_show, config_model):
    expanded = config_show(preset, expand=True)
    assert expanded["model"]["backbone"]["type"] == "x3d"
    with torch.device("meta"):
        short, composed = config_model(config_show(preset)), config_model(expanded)
    assert layout(short) == layout(composed) and short.clip_len == composed.clip_len
    assert sum(p.numel() for p in composed.parameters()) == 3_794_322


def test_expanded_preset_gives_the_shorthands_outputs(config_show, config_model):
    tiny = (
        "model.num_classes=5",
        "model.args.mid_channels=16",
        "model.args.gamma_w=0.3333",
        "model.args.gamma_d=0.5",
    )
    preset = "x3d_s_13x6x1_kinetics400_rgb"
    short = config_model(config_show(preset, *tiny)).eval()
    composed = config_model(config_show(preset, *tiny, expand=True)).eval()
    composed.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(short(x), composed(x))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: name[: len("x3d_s")] for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "x3d" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
