import json
from pathlib import Path

import pytest
import torch

from action_core.api import CheckpointMismatchError, count_flops, export_model
from action_testkit import PluginConformance
from action_videomae import load_transformers_videomae, videomae_vit_b16, videomae_vit_l16
from action_vit import MultiheadSelfAttention, load_mmaction2_vit3d, sinusoid_position_encoding

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


def n_params(model):
    return sum(p.numel() for p in model.parameters())


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
    assert load_mmaction2_vit3d(model, reference).ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_logits_equal_transformers_with_converted_weights():
    reference = torch.load(FIXTURES / "transformers_videomae_tiny.pt", weights_only=True)
    model = videomae_vit_b16(**NARROW, norm_eps=1e-12, fc_norm_eps=1e-5)  # transformers' epsilons
    assert load_transformers_videomae(model, reference).ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_full_size_checkpoint_layouts_map_onto_our_builders():
    shapes = json.loads((FIXTURES / "mmaction2_videomae_vit_b16_keys.json").read_text())
    assert "backbone.pos_embed" in shapes  # MMAction2 stores the fixed table; the converter checks it
    with torch.device("meta"):  # key names and shapes only
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
        checkpoint["backbone.pos_embed"] = sinusoid_position_encoding(1568, 768)  # on the CPU
        assert load_mmaction2_vit3d(videomae_vit_b16(), checkpoint).ok
        shapes = json.loads((FIXTURES / "transformers_videomae_base_keys.json").read_text())
        checkpoint = {k: torch.zeros(s) for k, s in shapes.items()}
        model = videomae_vit_b16(norm_eps=1e-12, fc_norm_eps=1e-5)
        assert load_transformers_videomae(model, checkpoint).ok


def test_weights_argument_loads_an_mmaction2_file_strictly():
    path = FIXTURES / "mmaction2_videomae_vit_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = videomae_vit_b16(**NARROW, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="gamma_1"):
        videomae_vit_b16(**NARROW, backbone_kwargs={"init_values": 0.1}, weights=str(path))
    with pytest.raises(FileNotFoundError, match="known: vit-base-p16_videomae"):
        videomae_vit_b16(**NARROW, weights="no_such_weights")


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
