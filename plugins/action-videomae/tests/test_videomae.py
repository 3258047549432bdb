import json
import tomllib
from pathlib import Path

import pytest
import torch

from action_core.api import (
    CheckpointMismatchError,
    ExperimentConfig,
    WeightsError,
    compose_model,
    count_flops,
    export_model,
    find_published_weights,
    load_config,
    load_weights,
    run_cli,
)
from action_testkit import PluginConformance
from action_videomae import (
    videomae_vit_b16,
    videomae_vit_b16_parts,
    videomae_vit_l16,
    videomae_vit_l16_parts,
)
from action_vit import MultiheadSelfAttention, sinusoid_position_encoding

FIXTURES = Path(__file__).parent / "fixtures"
NARROW = {
    "num_classes": 5,
    "img_size": 32,
    "patch_size": 8,
    "num_frames": 4,
    "embed_dims": 32,
    "depth": 2,
    "num_heads": 4,
}
OPTIONS = {  # the second MMAction2 fixture: learned positions, LayerScale, no q/v bias, no mean pooling
    "use_mean_pooling": False,
    "backbone_kwargs": {"use_learnable_pos_emb": True, "init_values": 0.1, "qkv_bias": False},
}


PRESET = "videomae_vit_b16_16x4x1_kinetics400_rgb"


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize(
    ("build", "parts"),
    [(videomae_vit_b16, videomae_vit_b16_parts), (videomae_vit_l16, videomae_vit_l16_parts)],
    ids=["vit_b16", "vit_l16"],
)
@pytest.mark.parametrize(
    "kwargs", [{}, {**NARROW, "fc_norm_eps": 1e-5, **OPTIONS}], ids=["defaults", "narrow_options"]
)
def test_shorthand_and_its_composition_build_the_same_model(build, parts, kwargs):
    with torch.device("meta"):
        short = build(**kwargs)
        composed = compose_model(parts(**kwargs))
    assert shapes(short) == shapes(composed)
    assert short.clip_len == composed.clip_len == kwargs.get("num_frames", 16)
    assert short.input_format == composed.input_format == "NCTHW"
    if kwargs:  # the options reach the backbone: no mean pooling, learned positions, LayerScale
        assert composed.backbone.fc_norm is None and "backbone.pos_embed" in composed.state_dict()
        assert "backbone.blocks.0.gamma_1" in composed.state_dict()


def test_each_published_checkpoint_is_listed_by_the_model_it_fits():
    from action_videomae import WEIGHTS

    listed = {name: find_published_weights(name)[1] for name in WEIGHTS}
    assert listed == {
        "vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400": "videomae_vit_b16",
        "vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400": "videomae_vit_l16",
    }


def built_config(capsys, *argv):
    assert run_cli(["config", "show", *argv]) in (0, None)
    cfg = ExperimentConfig.from_dict(tomllib.loads(capsys.readouterr().out), source=argv[0])
    with torch.device("meta"):
        return cfg, compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


def test_the_preset_expands_into_the_same_model(capsys):
    cfg, expanded = built_config(capsys, PRESET, "--expand")
    assert cfg.model.type == "Recognizer3D" and cfg.model.backbone["type"] == "vit3d"
    assert cfg.model.head["type"] == "timesformer_head"
    with torch.device("meta"):
        preset = load_config(PRESET, cls=ExperimentConfig)
        short = compose_model(preset.model.description(), num_classes=preset.model.num_classes)
    assert shapes(expanded) == shapes(short) and expanded.clip_len == short.clip_len == 16


def test_parameter_counts_equal_mmaction2():
    with torch.device("meta"):  # counting needs no values
        assert n_params(videomae_vit_b16(num_classes=400)) == 86_534_800
        assert n_params(videomae_vit_l16(num_classes=400)) == 304_270_736


def test_architecture_follows_the_mmaction2_config():
    with torch.device("meta"):
        model = videomae_vit_b16()
    backbone = model.backbone
    assert backbone.patch_embed.projection.kernel_size == (2, 16, 16) and len(backbone.blocks) == 12
    assert backbone.pos_embed.shape == (1, 8 * 14 * 14, 768)
    attn = backbone.blocks[0].attn
    assert isinstance(attn, MultiheadSelfAttention) and attn.num_heads == 12 and attn.q_bias is not None
    assert backbone.blocks[0].norm1.eps == 1e-6 and backbone.fc_norm.eps == 1e-6
    assert model.head.dropout is None and model.head.fc_cls.in_features == 768


@pytest.mark.parametrize(
    ("fixture", "options"),
    [("mmaction2_videomae_vit_tiny", {}), ("mmaction2_videomae_vit_options_tiny", OPTIONS)],
)
def test_logits_equal_mmaction2_with_converted_weights(fixture, options):
    reference = torch.load(FIXTURES / f"{fixture}.pt", weights_only=True)
    model = videomae_vit_b16(**NARROW, **options)
    assert load_weights(model, reference, converter="mmaction2_videomae").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_logits_equal_transformers_with_converted_weights():
    reference = torch.load(FIXTURES / "transformers_videomae_tiny.pt", weights_only=True)
    model = videomae_vit_b16(**NARROW, norm_eps=1e-12, fc_norm_eps=1e-5)  # transformers' epsilons
    assert load_weights(model, reference, converter="transformers_videomae").ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_full_size_checkpoint_layouts_map_onto_our_builders():
    shapes = json.loads((FIXTURES / "mmaction2_videomae_vit_b16_keys.json").read_text())
    assert "backbone.pos_embed" in shapes  # MMAction2 stores the fixed table; the converter checks it
    with torch.device("meta"):  # key names and shapes only
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
        checkpoint["backbone.pos_embed"] = sinusoid_position_encoding(1568, 768)  # on the CPU
        assert load_weights(videomae_vit_b16(), checkpoint, converter="mmaction2_videomae").ok
        shapes = json.loads((FIXTURES / "transformers_videomae_base_keys.json").read_text())
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
        model = videomae_vit_b16(norm_eps=1e-12, fc_norm_eps=1e-5)
        assert load_weights(model, checkpoint, converter="transformers_videomae").ok


def test_weights_argument_loads_an_mmaction2_file_strictly():
    path = FIXTURES / "mmaction2_videomae_vit_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = videomae_vit_b16(**NARROW, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="gamma_1"):
        videomae_vit_b16(**NARROW, backbone_kwargs={"init_values": 0.1}, weights=str(path))
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
        videomae_vit_b16(**NARROW, weights="no_such_weights")


def test_weights_backbone_only_keeps_the_fresh_head_of_another_label_set():
    path = FIXTURES / "mmaction2_videomae_vit_tiny.pt"
    torch.manual_seed(0)
    model = videomae_vit_b16(**{**NARROW, "num_classes": 7}, weights=str(path), weights_backbone_only=True)
    torch.manual_seed(0)
    fresh = videomae_vit_b16(**{**NARROW, "num_classes": 7})
    loaded = torch.load(path, weights_only=True)["state_dict"]
    assert torch.equal(model.backbone.fc_norm.weight, loaded["backbone.fc_norm.weight"])
    assert torch.equal(model.head.fc_cls.weight, fresh.head.fc_cls.weight)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("builder", "published"),
    [(videomae_vit_b16, 180.0), (videomae_vit_l16, 597.0)],
    ids=["vit_b16", "vit_l16"],
)
def test_flops_match_the_mmaction2_model_zoo(builder, published):
    # MMAction2's VideoMAE README lists 180G (ViT-B) and 597G (ViT-L) multiply-accumulates for one 16x224x224
    # view. Counted on the meta device (shapes only, no arithmetic), where attention runs as matrix products
    # that the counter sees; on CPU tensors torch's counter has no formula for the fused attention kernel.
    with torch.device("meta"):
        macs = count_flops(builder(num_classes=400), (1, 3, 16, 224, 224)).macs / 1e9
    assert abs(macs - published) / published <= 0.02, f"{macs:.2f} GMACs vs published {published} G"


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_exports_equal_eager(tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    model = videomae_vit_b16(**NARROW)
    report = export_model(model, tmp_path / f"videomae.{fmt}", format=fmt, input_shape=(2, 3, 4, 32, 32))
    assert report.max_abs_diff is None or report.max_abs_diff <= 1e-4


class TestConformance(PluginConformance):
    plugin = "videomae"


def test_training_step_reaches_every_parameter():
    model = videomae_vit_b16(**NARROW, drop_path_rate=0.5).train()
    loss = model.loss(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([1, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_default_tool_input_is_the_models_clip():
    from action_core.api import default_input_shape

    with torch.device("meta"):
        assert default_input_shape(videomae_vit_b16()) == (1, 3, 16, 224, 224)
