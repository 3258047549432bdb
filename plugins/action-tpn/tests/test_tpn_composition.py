"""TPN-TSM is composed from registered parts: the shorthand builder and its expansion build the same model,
and the preset, written out with ``[model.neck] type = "tpn"``, builds the model the shorthand builds."""

import tomllib

import torch

from action_core.api import (
    ExperimentConfig,
    I3DHead,
    build_model,
    compose_model,
    expand_model,
    find_published_weights,
    run_cli,
)
from action_tpn.models import TPN_WEIGHTS
from action_tpn.necks import TPN

PRESET = "tpn_tsm_r50_1x1x8_150e_sthv1_rgb"
NARROW = {"channels": 32, "fusion_channels": 64, "out_channels": 64, "flow": "parallel"}


def layout(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


def test_shorthand_and_its_expansion_build_the_same_model():
    kwargs = {"num_classes": 7, "num_segments": 4, "neck_args": NARROW, "aux_loss_weight": 0.25}
    description = expand_model("tpn_tsm_r50", **kwargs)
    assert description["type"] == "Recognizer2D" and description["head"]["type"] == "i3d_head"
    assert description["backbone"]["type"] == "resnet_tsm_stages"
    assert description["neck"] == {
        "type": "tpn",
        **NARROW,
        "in_channels": [1024, 2048],
        "aux_classes": 7,
        "aux_loss_weight": 0.25,
    }
    with torch.device("meta"):
        short = build_model("tpn_tsm_r50", **kwargs)
        composed = compose_model(description)
    assert layout(short) == layout(composed) and repr(short) == repr(composed)
    assert composed.num_segments == 4 and composed.input_format == "NTCHW"
    assert composed.neck.flow == "parallel" and composed.neck.aux_head.loss_fn.loss_weight == 0.25
    assert expand_model("tpn_tsm_r50", aux_head=False)["neck"]["aux_classes"] is None


def show(capsys, *options: str) -> dict:
    assert run_cli(["config", "show", PRESET, *options]) == 0
    return tomllib.loads(capsys.readouterr().out)


def test_the_preset_composes_the_tpn_neck_into_the_shorthands_model(capsys):
    config = show(capsys)
    assert config["model"]["type"] == "Recognizer2D" and config["model"]["neck"]["type"] == "tpn"
    assert config["model"]["backbone"]["pretrained"] is True
    assert show(capsys, "--expand") == config  # already written out
    config = show(capsys, "--set", "model.backbone.pretrained=false")  # no ImageNet download here
    cfg = ExperimentConfig.from_dict(config)
    with torch.device("meta"):
        composed = compose_model(cfg.model.description(), num_classes=cfg.model.num_classes)
        short = build_model("tpn_tsm_r50", num_classes=174, num_segments=8)
    assert isinstance(composed.neck, TPN) and isinstance(composed.head, I3DHead)
    assert layout(composed) == layout(short) and repr(composed) == repr(short)
    assert composed.num_segments == 8 and composed.neck.flow == "cascade"
    assert composed.neck.aux_head.loss_fn.loss_weight == 0.5 and composed.head.dropout_ratio == 0.5


def test_published_checkpoints_are_found_through_the_model_they_fit():
    for name, info in TPN_WEIGHTS.items():
        found = find_published_weights(name)
        assert found is not None and found == (info, "tpn_tsm_r50"), name
