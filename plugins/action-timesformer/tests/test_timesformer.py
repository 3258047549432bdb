import json
from pathlib import Path

import pytest
import torch

from action_core.api import CheckpointMismatchError, count_flops, export_model
from action_testkit import PluginConformance
from action_timesformer import (
    TimeSformer,
    load_mmaction2_timesformer,
    load_transformers_timesformer,
    timesformer_divst,
)

FIXTURES = Path(__file__).parent / "fixtures"
NARROW = {"num_frames": 4, "img_size": 32, "patch_size": 8, "embed_dims": 32, "num_heads": 4, "num_layers": 2}


def test_parameter_count_equals_mmaction2():
    with torch.device("meta"):  # counting needs no values
        model = timesformer_divst(num_classes=400)
    assert sum(p.numel() for p in model.parameters()) == 121_566_352


def test_architecture_follows_the_mmaction2_config():
    with torch.device("meta"):
        model = timesformer_divst()
    backbone = model.backbone
    assert backbone.pos_embed.shape == (1, 197, 768) and backbone.time_embed.shape == (1, 8, 768)
    assert len(backbone.layers) == 12 and backbone.layers[0].spatial_attn.num_heads == 12
    rates = [getattr(layer.drop_path, "drop_prob", 0.0) for layer in backbone.layers]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.1)  # MMAction2's fixed stochastic depth
    assert model.head.dropout is None and model.head.fc_cls.in_features == 768


def test_temporal_fc_starts_at_zero_so_blocks_start_spatial_only():
    backbone = TimeSformer(**NARROW)
    assert all(torch.count_nonzero(layer.temporal_fc.weight) == 0 for layer in backbone.layers)


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_timesformer_divst_tiny.pt", weights_only=True)
    model = timesformer_divst(num_classes=5, **NARROW)
    assert load_mmaction2_timesformer(model, reference).ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_logits_equal_transformers_with_converted_weights():
    reference = torch.load(FIXTURES / "transformers_timesformer_tiny.pt", weights_only=True)
    model = timesformer_divst(num_classes=5, **NARROW)
    assert load_transformers_timesformer(model, reference).ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_full_size_checkpoint_layouts_map_onto_our_builder():
    with torch.device("meta"):  # key names and shapes only
        for fixture, load in [
            ("mmaction2_timesformer_divst_keys.json", load_mmaction2_timesformer),
            ("transformers_timesformer_base_keys.json", load_transformers_timesformer),
        ]:
            shapes = json.loads((FIXTURES / fixture).read_text())
            assert load(timesformer_divst(), {k: torch.zeros(s) for k, s in shapes.items()}).ok


def test_weights_argument_loads_an_mmaction2_file_strictly():
    path = FIXTURES / "mmaction2_timesformer_divst_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = timesformer_divst(num_classes=5, **NARROW, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="fc_cls"):
        timesformer_divst(num_classes=7, **NARROW, weights=str(path))
    with pytest.raises(FileNotFoundError, match="known: timesformer_divST_8xb8"):
        timesformer_divst(**NARROW, weights="no_such_weights")


def test_input_of_another_size_is_refused_with_the_fix():
    model = timesformer_divst(num_classes=5, **NARROW).eval()
    with pytest.raises(ValueError, match="4 frames of 32x32.*num_frames / img_size"):
        model(torch.randn(1, 3, 8, 32, 32))


@pytest.mark.slow
def test_flops_match_the_mmaction2_model_zoo():
    # MMAction2's metafile lists 196G multiply-accumulates for one 8x224x224 view. Counted on the meta device
    # (shapes only, no arithmetic), where attention runs as matrix products that the counter sees; on CPU
    # tensors torch's counter has no formula for the fused attention kernel (189.9 G: the attention missing).
    with torch.device("meta"):
        macs = count_flops(timesformer_divst(num_classes=400), (1, 3, 8, 224, 224)).macs / 1e9
    assert abs(macs - 196.0) / 196.0 <= 0.02, f"{macs:.2f} GMACs vs published 196 G"


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_exports_equal_eager(tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxscript")
    model = timesformer_divst(num_classes=5, **NARROW)
    report = export_model(model, tmp_path / f"timesformer.{fmt}", format=fmt, input_shape=(2, 3, 4, 32, 32))
    assert report.max_abs_diff is None or report.max_abs_diff <= 1e-4


class TestConformance(PluginConformance):
    plugin = "timesformer"


def test_training_step_reaches_every_parameter():
    model = timesformer_divst(num_classes=5, **NARROW, drop_path_rate=0.5).train()
    for layer in model.backbone.layers:  # start away from zero so that the temporal branch gets gradients
        torch.nn.init.normal_(layer.temporal_fc.weight, std=0.02)
    loss = model.loss(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([1, 3]))
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.backbone.pos_embed.grad.abs().sum() > 0 and model.backbone.time_embed.grad.abs().sum() > 0


def test_default_tool_input_is_the_models_clip():
    from action_core.api import default_input_shape

    assert default_input_shape(timesformer_divst(num_classes=5, **NARROW)) == (1, 3, 4, 224, 224)
