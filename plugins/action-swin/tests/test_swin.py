import json
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F
from torchvision.models.swin_transformer import SwinTransformer as SwinTransformer2D

from action_core.api import CheckpointMismatchError
from action_swin import (
    SwinTransformer3D,
    convert_mmaction2,
    convert_torchvision,
    inflate_swin2d_weights,
    load_mmaction2,
    load_swin2d_state_dict,
    load_torchvision,
    swin3d_b,
    swin3d_backbone,
    swin3d_l,
    swin3d_s,
    swin3d_t,
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


def n_params(model):
    return sum(p.numel() for p in model.parameters())


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
    ("name", "load"),
    [("mmaction2_swin3d_tiny", load_mmaction2), ("torchvision_swin3d_tiny", load_torchvision)],
)
@pytest.mark.parametrize("clip", ["", "_shifted_time"])
def test_logits_equal_the_reference_with_converted_weights(name, load, clip):
    reference = fixture(name)
    model = swin3d_t(**NARROW)
    assert load(model, reference["state_dict"]).ok
    assert_logits_equal(model, reference, clip)


def test_weights_argument_loads_an_mmaction2_file():
    path = FIXTURES / "mmaction2_swin3d_tiny.pt"
    model = swin3d_t(**NARROW, weights=str(path))
    assert model.weights_report.ok
    assert_logits_equal(model, fixture("mmaction2_swin3d_tiny"))
    with pytest.raises(CheckpointMismatchError, match="shape mismatches"):
        swin3d_t(**{**NARROW, "window_size": (2, 3, 3)}, weights=str(path))
    with pytest.raises(FileNotFoundError, match="known: swin3d_t_32x2x1_kinetics400_mmaction2"):
        swin3d_t(**NARROW, weights="no_such_weights")


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
    report = inflate_swin2d_weights(backbone, load_swin2d_state_dict("tiny", path))
    assert report.not_inflated == ()  # 13x13 tables resized to 5x5, repeated for 3 temporal offsets
    assert tuple(backbone.layers[0].blocks[0].attn.relative_position_bias_table.shape) == (3 * 5 * 5, 1)


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
