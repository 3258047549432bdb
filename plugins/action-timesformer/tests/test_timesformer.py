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
    load_config,
    load_weights,
    run_cli,
)
from action_testkit import PluginConformance
from action_timesformer import TimeSformer, timesformer_divst, timesformer_divst_parts

FIXTURES = Path(__file__).parent / "fixtures"
NARROW = {"num_frames": 4, "img_size": 32, "patch_size": 8, "embed_dims": 32, "num_heads": 4, "num_layers": 2}
PRESET = "timesformer_divST_8x32x1_15e_kinetics400_rgb"


def shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


@pytest.mark.parametrize("kwargs", [{}, {"num_classes": 7, **NARROW, "head_dropout_ratio": 0.3}])
def test_shorthand_and_its_composition_build_the_same_model(kwargs):
    with torch.device("meta"):
        short = timesformer_divst(**kwargs)
        composed = compose_model(timesformer_divst_parts(**kwargs))
    assert shapes(short) == shapes(composed)
    assert short.clip_len == composed.clip_len == kwargs.get("num_frames", 8)
    assert short.input_format == composed.input_format == "NCTHW"


def built_config(capsys, *argv):
    assert run_cli(["config", "show", *argv]) in (0, None)
    cfg = ExperimentConfig.from_dict(tomllib.loads(capsys.readouterr().out), source=argv[0])
    with torch.device("meta"):
        return cfg, compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


def test_the_preset_expands_into_the_same_model(capsys):
    cfg, expanded = built_config(capsys, PRESET, "--expand")
    assert cfg.model.type == "Recognizer3D" and cfg.model.backbone["type"] == "timesformer"
    assert cfg.model.head["type"] == "timesformer_head"
    with torch.device("meta"):
        preset = load_config(PRESET, cls=ExperimentConfig)
        short = compose_model(preset.model.description(), num_classes=preset.model.num_classes)
    assert shapes(expanded) == shapes(short) and expanded.clip_len == short.clip_len == 8


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
    assert load_weights(model, reference, converter="mmaction2_timesformer").ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_logits_equal_transformers_with_converted_weights():
    reference = torch.load(FIXTURES / "transformers_timesformer_tiny.pt", weights_only=True)
    model = timesformer_divst(num_classes=5, **NARROW)
    assert load_weights(model, reference, converter="transformers_timesformer").ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)


def test_full_size_checkpoint_layouts_map_onto_our_builder():
    with torch.device("meta"):  # key names and shapes only
        for fixture, converter in [
            ("mmaction2_timesformer_divst_keys.json", "mmaction2_timesformer"),
            ("transformers_timesformer_base_keys.json", "transformers_timesformer"),
        ]:
            keys = json.loads((FIXTURES / fixture).read_text())
            checkpoint = {k: torch.zeros(s) for k, s in keys.items()}
            assert load_weights(timesformer_divst(), checkpoint, converter=converter).ok


@pytest.mark.parametrize("fixture", ["mmaction2_timesformer_divst_tiny", "transformers_timesformer_tiny"])
def test_weights_argument_loads_a_file_strictly_through_the_converter_that_fits(fixture):
    path = FIXTURES / f"{fixture}.pt"
    reference = torch.load(path, weights_only=True)
    model = timesformer_divst(num_classes=5, **NARROW, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="fc_cls"):
        timesformer_divst(num_classes=7, **NARROW, weights=str(path))


def test_weights_backbone_only_keeps_the_fresh_head_of_another_label_set():
    path = FIXTURES / "mmaction2_timesformer_divst_tiny.pt"
    torch.manual_seed(0)
    model = timesformer_divst(num_classes=7, **NARROW, weights=str(path), weights_backbone_only=True)
    torch.manual_seed(0)
    fresh = timesformer_divst(num_classes=7, **NARROW)
    loaded = torch.load(path, weights_only=True)["state_dict"]
    assert torch.equal(model.backbone.cls_token, loaded["backbone.cls_token"])
    assert torch.equal(model.head.fc_cls.weight, fresh.head.fc_cls.weight)


def test_unknown_weights_name_the_ways_to_give_them():
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
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
