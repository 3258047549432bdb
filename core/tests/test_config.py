"""Config files, presets, _base_ inheritance and dotted overrides; errors name the key or line."""

from __future__ import annotations

import attrs
import pytest

from action_core.config import apply_overrides, load_config, load_source, parse_override, save, structure
from action_core.errors import ConfigError


@attrs.define
class Optim:
    lr: float = attrs.field(default=0.1, validator=attrs.validators.gt(0))
    type: str = attrs.field(default="sgd", validator=attrs.validators.in_(["sgd", "adamw"]))
    milestones: list[int] = attrs.field(factory=list)


@attrs.define
class Experiment:
    optim: Optim = attrs.field(factory=Optim)
    epochs: int = 3


def test_overrides_convert_to_field_types():
    data = apply_overrides({"optim": {"lr": 0.1}}, ["optim.lr=0.01", "epochs=7", "optim.milestones=[2, 4]"])
    cfg = structure(Experiment, data)
    assert cfg == Experiment(Optim(lr=0.01, milestones=[2, 4]), epochs=7)
    assert parse_override("optim.type=adamw") == (["optim", "type"], "adamw")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"optim": {"lrr": 1}}, "unknown key optim.lrr"),
        ({"epochs": "many"}, "epochs = 'many' must be an integer"),
        ({"optim": {"lr": -1}}, "optim.lr: must be > 0"),
        ({"optim": {"type": "adam"}}, "optim.type: must be in ['sgd', 'adamw'] (got 'adam')"),
        ({"optim": {"milestones": ["x"]}}, "optim.milestones"),
    ],
)
def test_invalid_values_name_the_key(data, expected):
    with pytest.raises(ConfigError) as info:
        structure(Experiment, data, source="exp.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("exp.toml")


def test_malformed_toml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[optim]\nlr = 0.1\nepochs = = 3\n")
    with pytest.raises(ConfigError, match=r"bad.toml: malformed TOML: .*line 3"):
        load_source(bad)


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_config_file_that_is_not_utf8_names_file_and_line(tmp_path, suffix):
    # Found by fuzzing: a damaged (or Latin-1) file failed with a bare UnicodeDecodeError.
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes("[optim]\nlr = 0.1\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=rf"bad{suffix}:3: not UTF-8 text"):
        load_source(bad)


def test_malformed_override_is_rejected():
    with pytest.raises(ConfigError, match="dotted.key=value"):
        apply_overrides({}, ["optim.lr"])
    with pytest.raises(ConfigError, match="epochs is a int"):
        apply_overrides({"epochs": 3}, ["epochs.x=1"])


def test_base_inheritance_and_round_trip(tmp_path):
    (tmp_path / "base.toml").write_text('epochs = 10\n[optim]\nlr = 0.5\ntype = "adamw"\n')
    (tmp_path / "child.toml").write_text('_base_ = "base.toml"\n[optim]\nlr = 0.2\n')
    cfg = load_config(tmp_path / "child.toml", ["epochs=4"], cls=Experiment)
    assert cfg == Experiment(Optim(lr=0.2, type="adamw"), epochs=4)
    out = save(cfg, tmp_path / "resolved.toml")
    assert load_config(out, cls=Experiment) == cfg


def test_base_cycle_detected(tmp_path):
    (tmp_path / "a.toml").write_text('_base_ = "b.toml"\n')
    (tmp_path / "b.toml").write_text('_base_ = "a.toml"\n')
    with pytest.raises(ConfigError, match="inherits from itself"):
        load_source(tmp_path / "a.toml")


def test_yaml_configs(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "c.yaml").write_text("epochs: 2\noptim:\n  lr: 0.3\n")
    assert load_config(tmp_path / "c.yaml", cls=Experiment).optim.lr == 0.3
    (tmp_path / "bad.yaml").write_text("epochs: [1,\n  2\noptim: {\n")
    with pytest.raises(ConfigError, match="bad.yaml: line"):
        load_source(tmp_path / "bad.yaml")


def test_unknown_source_says_so():
    with pytest.raises(ConfigError, match="neither a config file nor a known preset"):
        load_source("no_such_preset_anywhere")


def test_overrides_index_into_lists():
    data = {"data": {"pipeline": [{"type": "Resize"}, {"type": "RandomCrop", "size": 224}]}}
    out = apply_overrides(data, ["data.pipeline.1.size=112"])
    assert out["data"]["pipeline"][1] == {"type": "RandomCrop", "size": 112}
    assert data["data"]["pipeline"][1]["size"] == 224
    with pytest.raises(ConfigError, match="list of 2 items; use an index 0..1 instead of '5'"):
        apply_overrides(data, ["data.pipeline.5.size=1"])
    assert apply_overrides(data, ["data.pipeline[1].size=96"])["data"]["pipeline"][1]["size"] == 96
    with pytest.raises(ConfigError, match="list of 2 items"):
        apply_overrides(data, ["data.pipeline[5].size=1"])


def test_delete_replaces_a_base_table_instead_of_merging(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text(
        "[data.train.args]\nvideos_per_class = 40\nsize = 64\n[optim]\nlr = 0.1\nmomentum = 0.9\n"
    )
    child = tmp_path / "child.toml"
    child.write_text(
        '_base_ = "base.toml"\n[data.train.args]\n_delete_ = true\nann_file = "train.txt"\n[optim]\nlr = 0.01\n'
    )
    data = load_source(child)
    assert data["data"]["train"]["args"] == {"ann_file": "train.txt"}  # replaced, the base's keys gone
    assert data["optim"] == {"lr": 0.01, "momentum": 0.9}  # merged as before
