import json
import tomllib
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F
from torchvision.models.swin_transformer import SwinTransformer as SwinTransformer2D

from action_core.api import (
    CheckpointError,
    CheckpointMismatchError,
    ExperimentConfig,
    WeightsError,
    compose_model,
    find_published_weights,
    load_config,
    load_weights,
    run_cli,
)
from action_swin import (
    SwinTransformer3D,
    convert_mmaction2,
    convert_torchvision,
    inflate_swin2d_weights,
    swin2d_state_dict,
    swin3d_b,
    swin3d_b_parts,
    swin3d_backbone,
    swin3d_l,
    swin3d_l_parts,
    swin3d_s,
    swin3d_s_parts,
    swin3d_t,
    swin3d_t_parts,
)
from action_swin.backbones import relative_position_index, shift_mask
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"
# the narrow variant both fixtures were made with: 4 wide, two blocks per stage, (4, 3, 3) windows
NARROW = {
    "num_classes": 5,
    "embed_dims": 4,
    "depths": (2, 2, 2, 2),
    "num_heads": (1, 1, 2, 2),
    "window_size": (4, 3, 3),
}


PRESET = "swin_tiny_p244_w877_32x2x1_30e_kinetics400_rgb"
MODELS = {
    "swin3d_t": (swin3d_t, swin3d_t_parts),
    "swin3d_s": (swin3d_s, swin3d_s_parts),
    "swin3d_b": (swin3d_b, swin3d_b_parts),
    "swin3d_l": (swin3d_l, swin3d_l_parts),
}


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("kwargs", [{}, {**NARROW, "dropout_ratio": 0.1}], ids=["defaults", "narrow"])
def test_shorthand_and_its_composition_build_the_same_model(name, kwargs):
    build, parts = MODELS[name]
    with torch.device("meta"):
        short = build(**kwargs)
        composed = compose_model(parts(**kwargs))
    assert shapes(short) == shapes(composed)
    assert composed.head.fc_cls.in_features == composed.backbone.out_channels  # the description's in_channels
    assert short.input_format == composed.input_format == "NCTHW"


def test_each_published_checkpoint_is_listed_by_the_model_it_fits():
    from action_swin import WEIGHTS

    assert {find_published_weights(name)[1] for name in WEIGHTS} == {"swin3d_t"}


def built_config(capsys, *argv):
    assert run_cli(["config", "show", *argv]) in (0, None)
    cfg = ExperimentConfig.from_dict(tomllib.loads(capsys.readouterr().out), source=argv[0])
    with torch.device("meta"):
        return cfg, compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


def test_the_preset_expands_into_the_same_model(capsys):
    assert run_cli(["config", "show", PRESET, "--expand"]) in (0, None)
    backbone = tomllib.loads(capsys.readouterr().out)["model"]["backbone"]
    assert (
        backbone["type"] == "swin3d" and backbone["pretrained"] is True
    )  # ImageNet inflation stays a backbone arg
    # built without the ImageNet download
    cfg, expanded = built_config(capsys, PRESET, "--expand", "--set", "model.args.pretrained=false")
    assert cfg.model.head["type"] == "i3d_head" and cfg.model.backbone["pretrained"] is False
    with torch.device("meta"):
        preset = load_config(PRESET, ["model.args.pretrained=false"], cls=ExperimentConfig)
        short = compose_model(preset.model.description(), num_classes=preset.model.num_classes)
    assert shapes(expanded) == shapes(short) and n_params(expanded) == 28_158_070


def fixture(name):
    return torch.load(FIXTURES / f"{name}.pt", weights_only=True)


def assert_logits_equal(model, reference, suffix=""):
    model.eval()
    with torch.no_grad():
        logits = model(reference[f"input{suffix}"])
    assert reference[f"logits{suffix}"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference[f"logits{suffix}"], rtol=0, atol=1e-4)


def test_parameter_counts_equal_the_references():
    with torch.device("meta"):  # counting needs no memory
        assert n_params(swin3d_t(num_classes=400)) == 28_158_070  # MMAction2 tiny, torchvision swin3d_t
        assert n_params(swin3d_s(num_classes=400)) == 49_816_678
        assert n_params(swin3d_b(num_classes=400)) == 88_048_984
        assert n_params(swin3d_l(num_classes=400)) == 196_953_916


def test_tiny_architecture_follows_mmaction2():
    with torch.device("meta"):
        model = swin3d_t(num_classes=400)
    backbone = model.backbone
    patches = backbone.patch_embed.proj
    assert patches.kernel_size == (2, 4, 4) and patches.stride == (2, 4, 4)
    assert [len(stage.blocks) for stage in backbone.layers] == [2, 2, 6, 2]
    assert [stage.blocks[0].attn.num_heads for stage in backbone.layers] == [3, 6, 12, 24]
    assert [block.shift_size for block in backbone.layers[0].blocks] == [(0, 0, 0), (4, 3, 3)]
    assert backbone.layers[3].downsample is None and backbone.out_channels == 768
    assert model.head.fc_cls.in_features == 768 and model.head.dropout.p == 0.5
    assert tuple(backbone.layers[0].blocks[0].attn.relative_position_bias_table.shape) == (15 * 13 * 13, 3)


def index_checksums(index):
    flat = index.flatten().to(torch.int64)
    return torch.stack((flat.sum(), (flat * torch.arange(flat.numel())).sum()))


def test_relative_position_index_of_the_full_window_equals_the_references():
    ours = index_checksums(relative_position_index((8, 7, 7)))
    for name in ("mmaction2_swin3d_tiny", "torchvision_swin3d_tiny"):
        torch.testing.assert_close(ours, fixture(name)["index_877_checksums"], rtol=0, atol=0)


def test_shift_mask_separates_the_wrapped_regions():
    mask = shift_mask((4, 6, 6), (2, 3, 3), (1, 1, 1), torch.device("cpu"))
    assert mask.shape == (2 * 2 * 2, 18, 18)
    assert (mask[0] == 0).all()  # the first window holds no wrapped-around tokens
    # the last window holds 2 regions along each axis: 1 + 1 positions in time, 2 + 1 along height and width, so
    # 8 groups of 4, 2, 2, 1, 4, 2, 2, 1 tokens that attend only within their group
    last = mask[-1]
    assert set(last.unique().tolist()) == {-100.0, 0.0}
    assert (last.diagonal() == 0).all() and int((last == 0).sum()) == 2 * (16 + 4 + 4 + 1)


def test_every_block_attends_through_scaled_dot_product_attention(monkeypatch):
    calls = []
    original = F.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(kwargs.get("attn_mask").shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", counting)
    model = swin3d_t(**NARROW).eval()
    with torch.no_grad():
        model(torch.randn(1, 3, 4, 24, 24))
    assert len(calls) == 8
    # stage 1 (2x6x6 tokens, windows 2x3x3): the shifted block adds the shift mask per window to the bias
    assert calls[0] == (1, 18, 18) and calls[1] == (4, 18, 18)  # (windows x heads, N, N)


@pytest.mark.parametrize(
    ("name", "converter"),
    [("mmaction2_swin3d_tiny", "mmaction2_swin"), ("torchvision_swin3d_tiny", "torchvision_swin")],
)
@pytest.mark.parametrize("clip", ["", "_shifted_time"])
def test_logits_equal_the_reference_with_converted_weights(name, converter, clip):
    reference = fixture(name)
    model = swin3d_t(**NARROW)
    assert load_weights(model, reference["state_dict"], converter=converter).ok
    assert_logits_equal(model, reference, clip)


@pytest.mark.parametrize("name", ["mmaction2_swin3d_tiny", "torchvision_swin3d_tiny"])
def test_weights_argument_finds_the_converter_that_fits(tmp_path, name):
    path = tmp_path / f"{name}.pth"
    torch.save({"state_dict": fixture(name)["state_dict"]}, path)
    assert_logits_equal(swin3d_t(**NARROW, weights=str(path)), fixture(name))


def test_weights_argument_loads_strictly():
    path = FIXTURES / "mmaction2_swin3d_tiny.pt"
    with pytest.raises(CheckpointMismatchError, match="shape mismatches"):
        swin3d_t(**{**NARROW, "window_size": (2, 3, 3)}, weights=str(path))
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
        swin3d_t(**NARROW, weights="no_such_weights")


def test_weights_backbone_only_keeps_the_fresh_head_of_another_label_set():
    path = FIXTURES / "mmaction2_swin3d_tiny.pt"
    torch.manual_seed(0)
    model = swin3d_t(**{**NARROW, "num_classes": 7}, weights=str(path), weights_backbone_only=True)
    torch.manual_seed(0)
    fresh = swin3d_t(**{**NARROW, "num_classes": 7})
    loaded = fixture("mmaction2_swin3d_tiny")["state_dict"]
    assert torch.equal(model.backbone.patch_embed.proj.weight, loaded["backbone.patch_embed.proj.weight"])
    assert torch.equal(model.head.fc_cls.weight, fresh.head.fc_cls.weight)


@pytest.mark.parametrize(
    ("keys", "convert"),
    [("mmaction2_swin3d_t", convert_mmaction2), ("torchvision_swin3d_t", convert_torchvision)],
)
def test_full_size_checkpoint_layouts_map_onto_swin3d_t(keys, convert):
    shapes = json.loads((FIXTURES / f"{keys}_keys.json").read_text())
    state, unconverted = convert({k: torch.zeros(s) for k, s in shapes.items()})
    assert unconverted == ()
    with torch.device("meta"):
        own = swin3d_t(num_classes=400).state_dict()
    assert set(state) == set(own)
    assert all(tuple(state[k].shape) == tuple(own[k].shape) for k in own)


def test_converters_report_keys_they_do_not_know():
    state = dict(fixture("torchvision_swin3d_tiny")["state_dict"])
    state["features.7.0.norm1.weight"] = torch.zeros(4)
    _, unconverted = convert_torchvision(state)
    assert unconverted == ("features.7.0.norm1.weight",)


def swin2d_narrow():
    torch.manual_seed(0)
    model = SwinTransformer2D(
        patch_size=[4, 4],
        embed_dim=4,
        depths=[2, 2, 2, 2],
        num_heads=[1, 1, 2, 2],
        window_size=[7, 7],
        num_classes=5,
    ).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.add_(torch.randn(param.shape) * (0.5 if "relative_position" in name else 0.05))
    return model


def test_imagenet_inflation_keeps_the_2d_model_on_a_static_clip(tmp_path):
    # A clip of one repeated frame: every temporal copy of a token sees the same keys with the same (repeated)
    # bias, so the inflated 3D model computes what the 2D model computes on the frame. 224 px keeps every stage a
    # multiple of the 7x7 window (torchvision's 2D Swin pads small stages instead of shrinking the window).
    model_2d = swin2d_narrow()
    path = tmp_path / "swin2d.pth"
    torch.save(model_2d.state_dict(), path)
    model_3d = swin3d_t(**{**NARROW, "window_size": (8, 7, 7)}, pretrained=str(path)).eval()
    report = model_3d.backbone.inflation_report
    assert report.not_inflated == ()
    index_buffers = [k for k in report.unused_2d if k.endswith("attn.relative_position_index")]
    assert len(index_buffers) == 8
    assert set(report.unused_2d) - set(index_buffers) == {"head.weight", "head.bias"}
    model_3d.head.fc_cls.load_state_dict(model_2d.head.state_dict())
    frame = torch.randn(1, 3, 224, 224)
    clip = frame.unsqueeze(2).repeat(1, 1, 4, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model_3d(clip), model_2d(frame), rtol=0, atol=1e-4)


def test_inflation_resizes_bias_tables_of_another_window(tmp_path):
    path = tmp_path / "swin2d.pth"
    torch.save({"model": swin2d_narrow().state_dict()}, path)  # wrapped as the original Swin release files
    backbone = swin3d_backbone(
        embed_dims=4, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=(2, 3, 3)
    )
    report = inflate_swin2d_weights(backbone, swin2d_state_dict(path))
    assert report.not_inflated == ()  # 13x13 tables resized to 5x5, repeated for 3 temporal offsets
    assert tuple(backbone.layers[0].blocks[0].attn.relative_position_bias_table.shape) == (3 * 5 * 5, 1)
    # the backbone's pretrained= argument reads the same file through core and fills the same tensors
    again = swin3d_backbone(
        embed_dims=4, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), window_size=(2, 3, 3), pretrained=str(path)
    )
    assert again.inflation_report.not_inflated == () and set(again.inflation_report.inflated) == set(
        report.inflated
    )
    assert all(torch.equal(a, b) for a, b in zip(backbone.parameters(), again.parameters(), strict=True))


def test_inflation_refuses_pickled_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "ran",))

    path = tmp_path / "swin2d.pth"
    torch.save({"model": swin2d_narrow().state_dict(), "payload": Payload()}, path)
    with pytest.raises(CheckpointError, match="refusing to load checkpoint"):
        swin3d_backbone(embed_dims=4, depths=(2, 2, 2, 2), num_heads=(1, 1, 2, 2), pretrained=str(path))
    assert not (tmp_path / "ran").exists()


def test_components_compose_and_train():
    backbone = swin3d_backbone(
        embed_dims=4, depths=(2, 2), num_heads=(1, 2), window_size=(4, 3, 3), drop_path_rate=0.1
    )
    assert isinstance(backbone, SwinTransformer3D) and backbone.out_channels == 8
    model = swin3d_t(**NARROW, drop_path_rate=0.2).train()
    loss = model.loss(model(torch.randn(2, 3, 4, 24, 24)), torch.tensor([0, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with pytest.raises(ValueError, match="unknown Swin arch 'huge'"):
        swin3d_backbone(arch="huge")


class TestConformance(PluginConformance):
    plugin = "swin"
