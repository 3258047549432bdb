"""TRN is composed from registered parts: the shorthand builder and its expansion build the same model, and
the preset expanded by ``action-run config show --expand`` builds what the shorthand builds."""

import tomllib

import torch

from action_core.api import (
    BCELossWithLogits,
    ExperimentConfig,
    build_model,
    compose_model,
    expand_model,
    find_published_weights,
    run_cli,
)
from action_trn.heads import TRNHead
from action_trn.models import TRN_WEIGHTS
from action_tsn.partial_bn import FixedBatchNorm2d

PRESET = "trn_r50_1x1x8_50e_sthv1_rgb"


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def test_shorthand_and_its_expansion_build_the_same_model():
    kwargs = {"num_classes": 7, "num_segments": 4, "hidden_dim": 16, "multi_label": True, "seed": 3}
    description = expand_model("trn_r50", **kwargs)
    assert description["type"] == "Recognizer2D" and description["head"]["type"] == "trn_head"
    assert description["backbone"] == {
        "type": "resnet2d",
        "depth": 50,
        "pretrained": False,
        "partial_bn": True,
        "norm_eval": False,
        "frozen_stages": -1,
    }
    short, composed = build_model("trn_r50", **kwargs), compose_model(description)
    assert layout(short) == layout(composed) and repr(short) == repr(composed)
    assert composed.num_segments == 4 and composed.input_format == "NTCHW"
    assert isinstance(composed.head, TRNHead) and isinstance(composed.head.loss_fn, BCELossWithLogits)
    assert composed.head.consensus.eval_relations == short.head.consensus.eval_relations
    assert isinstance(composed.backbone.layer4[2].bn3, FixedBatchNorm2d)


def show(capsys, *options: str) -> dict:
    assert run_cli(["config", "show", PRESET, "--set", "model.args.pretrained=false", *options]) == 0
    return tomllib.loads(capsys.readouterr().out)


def build(config: dict) -> torch.nn.Module:
    cfg = ExperimentConfig.from_dict(config)
    return compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)


def test_the_preset_expands_into_the_model_the_shorthand_builds(capsys):
    shorthand, expanded = show(capsys), show(capsys, "--expand")
    assert expanded["model"]["backbone"]["type"] == "resnet2d" and expanded["model"]["backbone"]["partial_bn"]
    assert expanded["model"]["head"]["type"] == "trn_head" and expanded["model"]["head"]["num_segments"] == 8
    with torch.device("meta"):
        short, composed = build(shorthand), build(expanded)
    assert layout(short) == layout(composed) and repr(short) == repr(composed)
    assert composed.num_segments == short.num_segments == 8


def test_published_checkpoints_are_found_through_the_model_they_fit():
    for name, info in TRN_WEIGHTS.items():
        found = find_published_weights(name)
        assert found is not None and found == (info, "trn_r50"), name
