import json
import shutil
from pathlib import Path

import pytest
import torch
import torchvision

from action_core.api import (
    compose_model,
    expand_model,
    find_published_weights,
    get_registry,
    load_preset,
    load_weights,
)
from action_slowfast import (
    WEIGHTS,
    ResNet3dSlowFast,
    lateral_inplanes,
    slowfast_backbone,
    slowfast_feature_width,
    slowfast_r50,
    slowfast_r50_8x8,
    slowfast_r50_8x8_parts,
    slowfast_r50_parts,
)
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"
TINY = {
    "num_classes": 5,
    "channel_ratio": 4,
    "slow_kwargs": {"base_channels": 4},
    "fast_kwargs": {"base_channels": 1},
}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_mmaction2():
    assert n_params(slowfast_r50(num_classes=400)) == 34_479_288
    assert n_params(slowfast_r50_8x8(num_classes=400)) == 34_565_560  # 7x1x1 fusion: MMAction2's 34.6M


def test_lateral_widths_and_pathway_shapes():
    assert lateral_inplanes(50) == [16, 64, 128, 256]
    model = slowfast_r50(**TINY).eval()
    slow, fast = model.backbone(torch.randn(1, 3, 32, 32, 32))
    assert (
        slow.shape[2] == 32 // 8 and fast.shape[2] == 32
    )  # tau = 8, alpha = 8: the fast path sees every frame
    assert model.head.fc_cls.in_features == slow.shape[1] + fast.shape[1]
    lateral = model.backbone.slow_path.layer1_lateral.conv
    assert lateral.kernel_size == (5, 1, 1) and lateral.stride == (8, 1, 1) and lateral.bias is None


@pytest.mark.parametrize(
    ("fixture", "kwargs"),
    [
        ("slowfast_r50_4x16_tiny", {"resample_rate": 8, "speed_ratio": 4}),
        ("slowfast_r50_8x8_tiny", {"resample_rate": 4, "speed_ratio": 4, "fusion_kernel": 7}),
    ],
)
def test_logits_equal_mmaction2_with_converted_weights(fixture, kwargs):
    reference = torch.load(FIXTURES / f"mmaction2_{fixture}.pt", weights_only=True)
    model = slowfast_r50(**TINY, **kwargs)
    assert load_weights(model, reference, converter="mmaction2_slowfast").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_slow_pathway_inflation_zero_fills_lateral_inputs():
    resnet2d = torchvision.models.resnet18()
    backbone = slowfast_backbone(depth=18, channel_ratio=8, fast_kwargs={"base_channels": 8})
    from action_resnet3d import inflate_resnet2d_weights

    report = inflate_resnet2d_weights(backbone.slow_path, resnet2d.state_dict())
    # the lateral input widens stage 1, which then needs a projection shortcut ResNet-18 does not have
    assert [name for name, _ in report.not_inflated] == ["layer1.0.downsample"]
    weight = backbone.slow_path.layer2[0].conv1.conv.weight  # 64 slow + 16 lateral input channels
    assert weight.shape[1] == 64 + 16
    torch.testing.assert_close(weight[:, :64, 0], resnet2d.layer2[0].conv1.weight)
    assert torch.count_nonzero(weight[:, 64:]) == 0


def test_frozen_stages_freeze_their_lateral_connections_too():
    backbone = slowfast_backbone(
        channel_ratio=4,
        slow_kwargs={"base_channels": 4, "frozen_stages": 1},
        fast_kwargs={"base_channels": 1},
    )
    backbone.train()
    slow = backbone.slow_path
    assert not any(p.requires_grad for p in slow.layer1_lateral.parameters())
    assert all(p.requires_grad for p in slow.layer2_lateral.parameters())
    assert not slow.layer1.training and slow.layer2.training


def test_bad_rates_are_refused():
    backbone = slowfast_backbone(
        channel_ratio=4, slow_kwargs={"base_channels": 4}, fast_kwargs={"base_channels": 1}
    )
    with pytest.raises(ValueError, match="multiple of speed_ratio"):
        ResNet3dSlowFast(backbone.slow_path, backbone.fast_path, resample_rate=6, speed_ratio=4)


class TestConformance(PluginConformance):
    plugin = "slowfast"


def test_full_size_checkpoint_layouts_map_onto_our_builders():
    mmaction2 = json.loads((FIXTURES / "mmaction2_slowfast_r50_4x16_keys.json").read_text())
    pytorchvideo = json.loads((FIXTURES / "pytorchvideo_slowfast_r50_keys.json").read_text())
    with torch.device("meta"):  # shapes only
        model = slowfast_r50(num_classes=400)
        assert load_weights(model, {k: torch.zeros(s) for k, s in mmaction2.items()}).ok  # converter by fit
        model = slowfast_r50_8x8(num_classes=400, lateral_norm=True)
        assert sum(p.numel() for p in model.parameters()) == 34_566_488  # PyTorchVideo's slowfast_r50
        state = {k: torch.zeros(s) for k, s in pytorchvideo.items()}
        assert load_weights(model, state, converter="pytorchvideo_slowfast").ok


def test_logits_equal_pytorchvideo_slowfast_r50_with_converted_weights():
    reference = torch.load(FIXTURES / "pytorchvideo_slowfast_r50_tiny.pt", weights_only=True)
    model = slowfast_r50_8x8(lateral_norm=True, **TINY)  # tau 4, alpha 4, 7x1x1 fusion with norm
    assert load_weights(model, reference["state_dict"], converter="pytorchvideo_slowfast").ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_published_weights_load_by_name_from_the_hub_cache(tmp_path, monkeypatch):
    info = WEIGHTS["slowfast_r50_8x8x1_kinetics400_mmaction2"]
    assert find_published_weights(info.name)[0] == info
    cached = tmp_path / "checkpoints" / info.url.rsplit("/", 1)[-1]
    cached.parent.mkdir()
    shutil.copy(FIXTURES / "mmaction2_slowfast_r50_8x8_tiny.pt", cached)  # stands in for the downloaded file
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    reference = torch.load(cached, weights_only=True)
    model = slowfast_r50_8x8(**TINY, weights=info.name).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    ("name", "parts", "kwargs"),
    [
        ("slowfast_r50", slowfast_r50_parts, {}),
        ("slowfast_r50", slowfast_r50_parts, {**TINY, "dropout_ratio": 0.2, "resample_rate": 16}),
        ("slowfast_r50_8x8", slowfast_r50_8x8_parts, {}),
        ("slowfast_r50_8x8", slowfast_r50_8x8_parts, {"lateral_norm": True, "num_classes": 7}),
    ],
)
def test_shorthand_equals_its_composition(name, parts, kwargs):
    description = expand_model(name, **kwargs)
    assert description == parts(**kwargs)
    assert description["backbone"]["type"] == "resnet3d_slowfast"
    assert description["head"]["type"] == "slowfast_head"
    with torch.device("meta"):
        short = slowfast_r50(**kwargs) if name == "slowfast_r50" else slowfast_r50_8x8(**kwargs)
        composed = compose_model(description)
    assert layout(short) == layout(composed)
    assert (
        composed.head.in_channels
        == composed.backbone.feat_dim
        == slowfast_feature_width(
            **{k: kwargs[k] for k in ("channel_ratio", "slow_kwargs", "fast_kwargs") if k in kwargs}
        )
    )


@pytest.mark.parametrize(
    ("preset", "params"),
    [
        ("slowfast_r50_4x16x1_256e_kinetics400_rgb", 34_479_288),
        ("slowfast_r50_8x8x1_256e_kinetics400_rgb", 34_565_560),
    ],
)
def test_preset_expands_into_the_same_model(preset, params, config_show, config_model):
    expanded = config_show(preset, expand=True)
    assert expanded["model"]["backbone"]["type"] == "resnet3d_slowfast"
    with torch.device("meta"):
        short, composed = config_model(config_show(preset)), config_model(expanded)
    assert layout(short) == layout(composed)
    assert sum(p.numel() for p in composed.parameters()) == params


def test_slowfast_r50_preset_expanded_gives_the_shorthands_outputs(config_show, config_model):
    # issue #16's bar: `action-run config show slowfast_r50_4x16x1_256e_kinetics400_rgb --expand` builds the
    # full SlowFast-R50 whose outputs equal the shorthand's with the same weights
    preset = "slowfast_r50_4x16x1_256e_kinetics400_rgb"
    expanded = config_show(preset, expand=True)
    assert set(expanded["model"]) >= {"backbone", "head"} and expanded["model"]["type"] == "Recognizer3D"
    torch.manual_seed(0)
    short = config_model(config_show(preset)).eval()
    composed = config_model(expanded).eval()
    clip = torch.randn(1, 3, 32, 64, 64)
    with torch.no_grad():
        out = short(clip)
        assert out.shape == (1, 400) and not torch.equal(out, composed(clip))  # other random weights
        composed.load_state_dict(short.state_dict())
        assert torch.equal(out, composed(clip))


def test_each_published_checkpoint_is_listed_by_the_model_it_fits_and_presets_name_theirs():
    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: "slowfast_r50" if "_4x16x1_" in name else "slowfast_r50_8x8" for name in WEIGHTS}
    for preset in get_registry().entries("preset"):
        if preset.plugin == "slowfast" and preset.spec.weights:
            model = load_preset(preset.name)["model"]["type"]
            assert find_published_weights(preset.spec.weights)[1] == model, preset.name
