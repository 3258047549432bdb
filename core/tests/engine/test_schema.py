"""The experiment config schema: TOML round trip and errors that name the field and the value."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w

from action_core.engine.schema import ExperimentConfig
from action_core.errors import ConfigError

CONTRACT_TOML = """
[model]
type = "tsm_r50"
num_classes = 400
args = { num_segments = 8, pretrained = false }
[data]
dataset = "kinetics400"
root = ""
batch_size = 8
workers = 2
[data.train]
split = "train"
pipeline = [{type = "SampleFrames", clip_len = 1, frame_interval = 1, num_clips = 8}, {type = "DecodeFrames"}]
args = {}
[data.val]
split = "val"
pipeline = []
[data.test]
split = "test"
pipeline = []
[optim]
type = "sgd"
lr = 0.01
momentum = 0.9
weight_decay = 1e-4
no_decay_norm_bias = false
grad_clip = 40.0
[schedule]
epochs = 50
policy = "multistep"
milestones = [20, 40]
gamma = 0.1
warmup_epochs = 0
[train]
val_interval = 1
ckpt_interval = 1
best_metric = "top1"
amp = "none"
channels_last = false
compile = false
seed = 0
log_interval = 20
sync_bn = false
[test]
average = "score"
metrics = ["top1", "top5", "mean_class_accuracy"]
"""


def base() -> dict:
    return tomllib.loads(CONTRACT_TOML)


def test_contract_example_round_trips_through_toml() -> None:
    cfg = ExperimentConfig.from_dict(base())
    assert cfg.model.args == {"num_segments": 8, "pretrained": False}
    assert cfg.data.train.pipeline[0]["num_clips"] == 8
    assert cfg.optim.grad_clip == 40.0 and cfg.schedule.warmup_epochs == 0.0
    again = ExperimentConfig.from_dict(tomllib.loads(tomli_w.dumps(cfg.to_dict())))
    assert again == cfg


def test_omitted_grad_clip_is_none_and_left_out_of_the_dict() -> None:
    data = base()
    del data["optim"]["grad_clip"]
    cfg = ExperimentConfig.from_dict(data)
    assert cfg.optim.grad_clip is None
    assert "grad_clip" not in cfg.to_dict()["optim"]


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("train", "amp", "fp8", "train.amp = 'fp8' is not allowed; choose one of auto, none, bf16, fp16"),
        (
            "train",
            "channels_last",
            "yes",
            "train.channels_last = 'yes' is not allowed; choose true, false or \"auto\"",
        ),
        ("optim", "type", "lamb", "optim.type = 'lamb' is not allowed"),
        ("test", "average", "max", "test.average = 'max'"),
        ("schedule", "policy", "poly", "schedule.policy = 'poly'"),
        ("optim", "lr", 0, "optim.lr = 0.0 is out of range"),
        ("optim", "momentum", 1.5, "optim.momentum = 1.5 is out of range"),
        ("data", "batch_size", 0, "data.batch_size = 0 is out of range"),
        ("train", "log_interval", "often", "train.log_interval = 'often' must be an integer"),
        ("train", "compile", 1, "train.compile = 1 must be true, false or a string"),
        ("schedule", "milestones", [40, 20], "schedule.milestones = [40, 20] must be strictly increasing"),
        ("schedule", "milestones", [20, 60], "beyond schedule.epochs = 50"),
        ("schedule", "warmup_epochs", 50, "schedule.warmup_epochs = 50.0 must be smaller"),
    ],
)
def test_bad_values_name_field_and_value(section: str, key: str, value: object, expected: str) -> None:
    data = base()
    data[section][key] = value
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(data)
    assert expected in str(info.value)


def test_unknown_keys_are_rejected_with_their_path() -> None:
    data = base()
    data["data"]["train"]["pipline"] = []
    with pytest.raises(ConfigError, match=r"unknown key data\.train\.pipline"):
        ExperimentConfig.from_dict(data)
    data = base()
    data["optimizer"] = {}
    with pytest.raises(ConfigError, match="unknown key optimizer"):
        ExperimentConfig.from_dict(data)


def test_missing_required_key_and_bad_pipeline_step_are_named() -> None:
    data = base()
    del data["model"]["num_classes"]
    with pytest.raises(ConfigError, match=r"missing required key model\.num_classes"):
        ExperimentConfig.from_dict(data)
    data = base()
    data["data"]["val"]["pipeline"] = [{"clip_len": 1}]
    with pytest.raises(ConfigError, match=r"data\.val\.pipeline\[0\]"):
        ExperimentConfig.from_dict(data)


def test_step_policy_needs_step_size() -> None:
    data = base()
    data["schedule"].update(policy="step", milestones=[])
    with pytest.raises(ConfigError, match="step_size"):
        ExperimentConfig.from_dict(data)
    data["schedule"]["step_size"] = 10
    assert ExperimentConfig.from_dict(data).schedule.step_size == 10
