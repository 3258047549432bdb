import json
import tomllib
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from action_core.api import (
    CheckpointMismatchError,
    ExperimentConfig,
    Recognizer3D,
    WeightsError,
    compose_model,
    find_published_weights,
    load_config,
    load_weights,
    run_cli,
)
from action_mvit import (
    MViT,
    MViTHead,
    convert_mmaction2,
    convert_pytorchvideo,
    convert_torchvision,
    mvit_backbone,
    mvit_v1_b,
    mvit_v1_b_parts,
    mvit_v2_b,
    mvit_v2_b_parts,
    mvit_v2_l,
    mvit_v2_l_parts,
    mvit_v2_s,
    mvit_v2_s_parts,
)
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"
# the narrow variant every fixture was made with: 8 wide, 4 blocks, downscales at 1, 2, 3, built for 4x32x32 clips
NARROW = {
    "num_classes": 5,
    "embed_dims": 8,
    "num_layers": 4,
    "downscale_indices": (1, 2, 3),
    "spatial_size": 32,
    "temporal_size": 4,
}


PRESET = "mvit_small_p244_16x4x1_200e_kinetics400_rgb"
MODELS = {
    "mvit_v2_s": (mvit_v2_s, mvit_v2_s_parts),
    "mvit_v2_b": (mvit_v2_b, mvit_v2_b_parts),
    "mvit_v2_l": (mvit_v2_l, mvit_v2_l_parts),
    "mvit_v1_b": (mvit_v1_b, mvit_v1_b_parts),
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
    assert short.clip_len == composed.clip_len == composed.backbone.patch_grid[0] * 2
    assert short.input_format == composed.input_format == "NCTHW"


def test_each_published_checkpoint_is_listed_by_the_model_it_fits():
    from action_mvit import WEIGHTS

    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {name: name[: len("mvit_v2_s")] for name in WEIGHTS}


def built_config(capsys, *argv):
    assert run_cli(["config", "show", *argv]) in (0, None)
    cfg = ExperimentConfig.from_dict(tomllib.loads(capsys.readouterr().out), source=argv[0])
    with torch.device("meta"):
        return cfg, compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


def test_the_preset_expands_into_the_same_model(capsys):
    cfg, expanded = built_config(capsys, PRESET, "--expand")
    assert cfg.model.backbone["type"] == "mvit" and cfg.model.backbone["arch"] == "small"
    assert cfg.model.head["type"] == "mvit_head" and cfg.model.head["label_smoothing"] == 0.1
    with torch.device("meta"):
        preset = load_config(PRESET, cls=ExperimentConfig)
        short = compose_model(preset.model.description(), num_classes=preset.model.num_classes)
    assert shapes(expanded) == shapes(short) and n_params(expanded) == 34_537_744
    assert expanded.head.loss_fn.label_smoothing == short.head.loss_fn.label_smoothing == 0.1


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
        assert n_params(mvit_v2_s(num_classes=400)) == 34_537_744  # MMAction2 small, torchvision mvit_v2_s
        assert n_params(mvit_v1_b(num_classes=400)) == 36_610_672  # PyTorchVideo mvit_base_16x4, torchvision
        assert n_params(mvit_v2_b(num_classes=400)) == 51_230_128  # MMAction2 base, temporal_size 32
        assert n_params(mvit_v2_l(num_classes=400)) == 213_390_112  # MMAction2 large, 40x312x312


def test_small_architecture_follows_mmaction2():
    with torch.device("meta"):
        backbone = mvit_v2_s(num_classes=400).backbone
    blocks = backbone.blocks
    assert [b.attn.num_heads for b in blocks] == [1, 2, 2] + [4] * 11 + [8, 8]
    assert [b.attn.out_dims for b in blocks] == [96, 192, 192] + [384] * 11 + [768, 768]
    assert [i for i, b in enumerate(blocks) if b.pool_skip is not None] == [1, 3, 14]
    assert [b.attn.pool_k.stride for b in blocks[:4]] == [(1, 8, 8), (1, 4, 4), (1, 4, 4), (1, 2, 2)]
    assert blocks[-1].attn.pool_k.stride == (1, 1, 1)
    # relative position tables sized for the 8x56x56 token grid of a 16x224x224 clip
    assert tuple(blocks[0].attn.rel_pos_h.shape) == (111, 96)
    assert tuple(blocks[0].attn.rel_pos_t.shape) == (15, 96)
    assert tuple(blocks[15].attn.rel_pos_h.shape) == (13, 96)
    assert backbone.patch_grid == (8, 56, 56)


def test_every_block_attends_through_scaled_dot_product_attention(monkeypatch):
    calls = []
    original = F.scaled_dot_product_attention

    def counting(*args, **kwargs):
        calls.append(kwargs.get("attn_mask"))
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", counting)
    model = mvit_v2_s(**NARROW).eval()
    with torch.no_grad():
        model(torch.randn(1, 3, 4, 32, 32))
    assert len(calls) == 4 and all(mask is not None for mask in calls)  # relative positions as additive mask


TINY_REFERENCES = [
    ("mmaction2_mvit_v2_tiny", lambda **kw: mvit_v2_s(**NARROW, **kw), "mmaction2_mvit"),
    ("torchvision_mvit_v2_tiny", lambda **kw: mvit_v2_s(**NARROW, **kw), "torchvision_mvit"),
    (
        "torchvision_mvit_v1_tiny",
        lambda **kw: mvit_v1_b(**NARROW, pool_norm_eps=1e-6, **kw),
        "torchvision_mvit",
    ),
    ("pytorchvideo_mvit_v1_tiny", lambda **kw: mvit_v1_b(**NARROW, **kw), "pytorchvideo_mvit"),
]


@pytest.mark.parametrize(("name", "build", "converter"), TINY_REFERENCES)
def test_logits_equal_the_reference_with_converted_weights(name, build, converter):
    reference = fixture(name)
    model = build()
    assert load_weights(model, reference["state_dict"], converter=converter).ok
    assert_logits_equal(model, reference)


def test_logits_equal_mmaction2_on_a_clip_of_another_size():
    # 6x40x40 instead of the 4x32x32 the model was built for: the relative position tables are interpolated
    reference = fixture("mmaction2_mvit_v2_tiny")
    model = mvit_v2_s(**NARROW)
    load_weights(model, reference, converter="mmaction2_mvit")
    assert_logits_equal(model, reference, "_other")


@pytest.mark.parametrize(("name", "build", "converter"), TINY_REFERENCES)
def test_weights_argument_finds_the_converter_that_fits(tmp_path, name, build, converter):
    path = tmp_path / f"{name}.pth"
    torch.save({"state_dict": fixture(name)["state_dict"]}, path)
    assert_logits_equal(build(weights=str(path)), fixture(name))


def test_weights_argument_loads_strictly():
    path = FIXTURES / "mmaction2_mvit_v2_tiny.pt"
    with pytest.raises(CheckpointMismatchError, match="shape mismatches"):
        mvit_v2_s(**{**NARROW, "embed_dims": 16}, weights=str(path))
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
        mvit_v2_s(**NARROW, weights="no_such_weights")


def test_weights_backbone_only_keeps_the_fresh_head_of_another_label_set():
    path = FIXTURES / "mmaction2_mvit_v2_tiny.pt"
    torch.manual_seed(0)
    model = mvit_v2_s(**{**NARROW, "num_classes": 7}, weights=str(path), weights_backbone_only=True)
    torch.manual_seed(0)
    fresh = mvit_v2_s(**{**NARROW, "num_classes": 7})
    loaded = fixture("mmaction2_mvit_v2_tiny")["state_dict"]
    assert torch.equal(model.backbone.cls_token, loaded["backbone.cls_token"])
    assert torch.equal(model.head.fc_cls.weight, fresh.head.fc_cls.weight)


@pytest.mark.parametrize(
    ("keys", "build", "convert"),
    [
        ("mmaction2_mvit_v2_s", mvit_v2_s, convert_mmaction2),
        ("torchvision_mvit_v2_s", mvit_v2_s, convert_torchvision),
        ("torchvision_mvit_v1_b", mvit_v1_b, convert_torchvision),
        ("pytorchvideo_mvit_base_16x4", mvit_v1_b, convert_pytorchvideo),
    ],
)
def test_full_size_checkpoint_layouts_map_onto_our_builders(keys, build, convert):
    shapes = json.loads((FIXTURES / f"{keys}_keys.json").read_text())
    state, unconverted = convert({k: torch.zeros(s) for k, s in shapes.items()})
    assert unconverted == ()
    with torch.device("meta"):
        own = build(num_classes=400).state_dict()
    assert set(state) == set(own)
    assert all(tuple(state[k].shape) == tuple(own[k].shape) for k in own)


def test_converters_report_keys_they_do_not_know():
    state = dict(fixture("mmaction2_mvit_v2_tiny")["state_dict"])
    state["data_preprocessor.mean"] = torch.zeros(3)
    converted, unconverted = convert_mmaction2({"state_dict": state})
    assert unconverted == ("data_preprocessor.mean",)
    assert "backbone.norm.weight" in converted and "head.fc_cls.weight" in converted
    # PyTorchVideo: a block missing one of q/k/v keeps the others unconverted rather than half-fused
    state = dict(fixture("pytorchvideo_mvit_v1_tiny")["state_dict"])
    del state["blocks.2.attn.v.bias"]
    _, unconverted = convert_pytorchvideo({"model_state": state})
    assert set(unconverted) == {"blocks.2.attn.q.bias", "blocks.2.attn.k.bias"}


def test_absolute_position_embeddings_need_the_built_clip_size():
    model = mvit_v1_b(**NARROW).eval()
    with pytest.raises(ValueError, match=r"\(2, 8, 8\) token grid.*gives \(2, 10, 10\)"):
        model(torch.randn(1, 3, 4, 40, 40))


def test_components_compose_into_a_recognizer():
    backbone = mvit_backbone(
        embed_dims=8, num_layers=4, downscale_indices=(1, 2, 3), spatial_size=32, temporal_size=4
    )
    assert isinstance(backbone, MViT) and backbone.out_channels == 64
    model = Recognizer3D(backbone, MViTHead(3, backbone.out_channels, with_cls_token=False)).eval()
    patches, cls_token = backbone(torch.randn(2, 3, 4, 32, 32))
    assert patches.shape == (2, 64, 2, 1, 1) and cls_token.shape == (2, 64)
    assert model(torch.randn(2, 3, 4, 32, 32)).shape == (2, 3)
    with pytest.raises(ValueError, match="unknown MViT arch 'huge'"):
        mvit_backbone(arch="huge")


def test_training_step_updates_every_parameter():
    model = mvit_v2_s(**NARROW, drop_path_rate=0.1).train()
    loss = model.loss(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([0, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


class TestConformance(PluginConformance):
    plugin = "mvit"
