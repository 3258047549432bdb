"""Models composed from registered parts in configs: parts from any plugin, shorthands that expand, errors
that name the key, the kind and the alternatives."""

from __future__ import annotations

import textwrap
import tomllib

import pytest
import torch

from action_core.api import ExperimentConfig
from action_core.errors import ConfigError

PARTS = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_backbones(register):
    register("tiny_conv3d", "fake_parts.impl:tiny_conv3d", summary="a tiny 3D conv backbone")

@hookimpl
def action_register_necks(register):
    register("scale_neck", "fake_parts.impl:scale_neck", summary="multiply features by a learnt scalar")

@hookimpl
def action_register_models(register):
    register("tiny_i3d", "fake_parts.impl:tiny_i3d", summary="shorthand", expand="fake_parts.impl:tiny_i3d_parts")
"""

IMPL = """
import torch
from torch import nn
from action_core.api import compose_model


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.scale


def tiny_conv3d(*, width=4):
    return nn.Sequential(nn.Conv3d(3, width, 3, padding=1), nn.BatchNorm3d(width), nn.ReLU())


def scale_neck():
    return Scale()


def tiny_i3d_parts(*, num_classes=5, width=4, dropout_ratio=0.5):
    return {
        "type": "Recognizer3D",
        "clip_len": 4,
        "backbone": {"type": "tiny_conv3d", "width": width},
        "head": {"type": "i3d_head", "num_classes": num_classes, "in_channels": width,
                 "dropout_ratio": dropout_ratio},
    }


def tiny_i3d(**kwargs):
    return compose_model(tiny_i3d_parts(**kwargs))
"""


@pytest.fixture
def parts(make_plugin):
    pkg = make_plugin("parts", PARTS)
    (pkg / "impl.py").write_text(textwrap.dedent(IMPL))


def config(model: str) -> ExperimentConfig:
    data = tomllib.loads(textwrap.dedent(model) + '\n[data]\ndataset = "video_list"\n')
    return ExperimentConfig.from_dict(data, source="exp.toml")


COMPOSED = """
[model]
type = "Recognizer3D"
num_classes = 3
[model.args]
clip_len = 4
[model.backbone]
type = "tiny_conv3d"
width = 6
[model.neck]
type = "scale_neck"
[model.head]
type = "i3d_head"
in_channels = 6
[model.head.loss]
type = "bce_with_logits"
"""


def test_a_config_composes_parts_from_plugins_and_core(parts):
    from action_core.engine.builders import build_model_from_config

    model = build_model_from_config(config(COMPOSED))
    assert type(model).__name__ == "Recognizer3D" and model.clip_len == 4
    assert model.head.num_classes == 3 and type(model.head.loss_fn).__name__ == "BCELossWithLogits"
    assert model(torch.randn(2, 3, 4, 8, 8)).shape == (2, 3)
    model.train()
    assert torch.isfinite(model.loss(model(torch.randn(2, 3, 4, 8, 8)), torch.zeros(2, 3)))


def test_a_shorthand_expands_into_the_same_model(parts):
    from action_core.api import build_model
    from action_core.cli.components import expanded_model_table
    from action_core.engine.builders import build_model_from_config

    table = expanded_model_table({"type": "tiny_i3d", "num_classes": 7, "args": {"width": 3}})
    assert table["type"] == "Recognizer3D" and table["backbone"] == {"type": "tiny_conv3d", "width": 3}
    assert table["head"]["num_classes"] == 7 and table["args"] == {"clip_len": 4}
    torch.manual_seed(0)
    short = build_model("tiny_i3d", num_classes=7, width=3)
    expanded = build_model_from_config(ExperimentConfig.from_dict({"model": table, "data": {"dataset": "x"}}))
    assert [(k, v.shape) for k, v in short.state_dict().items()] == [
        (k, v.shape) for k, v in expanded.state_dict().items()
    ]
    expanded.load_state_dict(short.state_dict())
    x = torch.randn(1, 3, 4, 8, 8)
    short.eval(), expanded.eval()
    assert torch.equal(short(x), expanded(x))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("tiny_conv3d", "tiny_conv3"),
            "model.backbone.type = 'tiny_conv3': no backbone 'tiny_conv3'. Did you mean",
        ),
        (("scale_neck", "no_such_neck"), "Installed necks: scale_neck"),
        (("width = 6", "widht = 6"), "model.backbone: backbone 'tiny_conv3d' takes no argument(s) widht"),
        (('type = "bce_with_logits"', 'type = "bce"'), "model.head.loss.type = 'bce'"),
    ],
)
def test_errors_name_the_key_the_kind_and_the_alternatives(parts, edit, message):
    from action_core.engine.builders import build_model_from_config

    with pytest.raises(ConfigError) as info:
        build_model_from_config(config(COMPOSED.replace(*edit)))
    assert message in str(info.value)


def test_a_part_table_needs_a_type():
    with pytest.raises(ConfigError, match="model.backbone needs a 'type'"):
        config(COMPOSED.replace('type = "tiny_conv3d"', ""))
