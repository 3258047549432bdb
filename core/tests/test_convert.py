"""``action-run convert``: foreign and pickled checkpoints become plain state-dict files that load with
``weights_only=True``; unpickling arbitrary objects happens only with ``--trust-pickle``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
from torch import nn

from action_core.api import load_checkpoint, load_weights
from action_core.cli.main import main

PLUGIN = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("conv_net", "fake_convdemo.parts:ConvNet", summary="a small net in our layout")

@hookimpl
def action_register_converters(register):
    register("convdemo_from_mmaction", "fake_convdemo.parts:from_mmaction", summary="MMAction2 keys -> ours",
             source="mmaction2", models=["conv_net"])
"""

PARTS = """
from torch import nn
from action_core.api import rename_keys


class ConvNet(nn.Module):
    def __init__(self, *, num_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, num_classes)


def from_mmaction(checkpoint):
    state = checkpoint.get("state_dict", checkpoint)
    return rename_keys(
        state,
        [(r"backbone\\.conv1\\.conv\\.(.+)", r"backbone.0.\\1"), (r"backbone\\.conv1\\.bn\\.(.+)", r"backbone.1.\\1"),
         (r"cls_head\\.fc_cls\\.(.+)", r"head.\\1")],
    )
"""


class _Payload:
    """Unpickling this runs code: it creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def _weights() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {"0.weight": torch.randn(2, 3), "0.bias": torch.randn(2)}


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("action-run: error:")]


def test_a_pickled_checkpoint_is_refused_without_the_flag(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "code-ran"
    src = tmp_path / "old.pth"
    torch.save({"state_dict": _weights(), "meta": {"hook": _Payload(marker)}}, src)
    out = tmp_path / "clean.pth"
    assert main(["convert", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "Traceback" not in err
    assert str(src) in err and "--trust-pickle" in err
    assert not out.exists() and not marker.exists()
    # The refusal of every other command names this command, as a user can run it.
    with pytest.raises(Exception, match=r"action-run convert .*old.pth.* --out .* --trust-pickle"):
        load_checkpoint(src)


def test_a_trusted_pickled_checkpoint_becomes_a_plain_state_dict(tmp_path: Path, capsys) -> None:
    src = tmp_path / "old.pth"
    weights = _weights()
    # MMCV-era checkpoints keep the argparse Namespace of their run in meta: harmless, but not loadable
    # with weights_only=True.
    meta = {"args": argparse.Namespace(lr=0.1), "classes": ["a", "b"], "epoch": 3}
    torch.save({"state_dict": weights, "meta": meta}, src)
    out = tmp_path / "clean" / "clean.pth"
    assert main(["convert", str(src), "--out", str(out), "--trust-pickle"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "trust" in captured.err and str(src) in captured.err
    state = load_checkpoint(out)  # weights_only=True
    assert set(state["model"]) == set(weights) and all(
        torch.equal(state["model"][k], weights[k]) for k in weights
    )
    assert state["meta"]["classes"] == ["a", "b"] and "args" not in state["meta"]
    assert "args" in captured.err  # what was left out is said
    # A whole pickled module (torch.save(model)) gives its state dict.
    module = nn.Sequential(nn.Linear(3, 2))
    torch.save(module, tmp_path / "module.pth")
    assert (
        main(["convert", str(tmp_path / "module.pth"), "--out", str(tmp_path / "m.pth"), "--trust-pickle"])
        == 0
    )
    assert torch.equal(load_checkpoint(tmp_path / "m.pth")["model"]["0.weight"], module[0].weight)


def test_an_existing_output_is_not_overwritten_by_default(tmp_path: Path, capsys) -> None:
    src = tmp_path / "ours.pth"
    torch.save({"model": _weights()}, src)
    out = tmp_path / "out.pth"
    out.write_bytes(b"keep me")
    assert main(["convert", str(src), "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me" and "--overwrite" in capsys.readouterr().err
    assert main(["convert", str(src), "--out", str(out), "--overwrite"]) == 0
    assert main(["convert", str(src), "--out", str(src), "--overwrite"]) == 2


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"plain text, not a checkpoint\n"])
def test_unreadable_sources_are_one_line(tmp_path: Path, capsys, content: bytes) -> None:
    src = tmp_path / "bad.pth"
    src.write_bytes(content)
    for extra in ([], ["--trust-pickle"]):
        assert main(["convert", str(src), "--out", str(tmp_path / "o.pth"), *extra]) == 2
        err = capsys.readouterr().err
        assert len(_error_lines(err)) == 1 and "Traceback" not in err and "bad.pth" in err
    src.write_bytes(b"plain text, not a checkpoint\n")
    assert main(["convert", str(src), "--out", str(tmp_path / "o.pth"), "--trust-pickle"]) == 2
    err = capsys.readouterr().err
    assert "not a PyTorch checkpoint" in err and "warning" not in err  # nothing is unpickled
    assert main(["convert", str(tmp_path / "missing.pth"), "--out", str(tmp_path / "o.pth")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "o.pth").exists()


def _mmaction_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    state = {
        "backbone.conv1.conv.weight": torch.randn(4, 3, 3, 3),
        "backbone.conv1.conv.bias": torch.randn(4),
        "backbone.conv1.bn.weight": torch.randn(4),
        "backbone.conv1.bn.bias": torch.randn(4),
        "backbone.conv1.bn.running_mean": torch.randn(4),
        "backbone.conv1.bn.running_var": torch.rand(4),
        "backbone.conv1.bn.num_batches_tracked": torch.tensor(7),
        "cls_head.fc_cls.weight": torch.randn(3, 4),
        "cls_head.fc_cls.bias": torch.randn(3),
    }
    torch.save(
        {"state_dict": state, "meta": {"mmaction2_version": "1.2.0", "config": "model = dict(...)"}}, path
    )
    return state


def _install(make_plugin) -> None:
    package = make_plugin("convdemo", PLUGIN)
    (package / "parts.py").write_text(PARTS)


def test_an_mmaction2_state_dict_through_a_registered_converter(make_plugin, tmp_path: Path, capsys) -> None:
    _install(make_plugin)
    src = tmp_path / "tsn_mmaction2.pth"
    state = _mmaction_checkpoint(src)
    by_name = tmp_path / "by_converter.pth"
    assert main(["convert", str(src), "--out", str(by_name), "--converter", "convdemo_from_mmaction"]) == 0
    converted = load_checkpoint(by_name)
    assert torch.equal(converted["model"]["head.weight"], state["cls_head.fc_cls.weight"])
    assert converted["meta"]["converter"] == "convdemo_from_mmaction"
    assert "config" not in converted["meta"]  # MMAction2's python config text is not ours to carry
    # Through a model: the converter is found by load_weights and every key is checked against the model.
    by_model = tmp_path / "by_model.pth"
    assert (
        main(["convert", str(src), "--out", str(by_model), "--model", "conv_net", "--num-classes", "3"]) == 0
    )
    from fake_convdemo.parts import ConvNet

    model = ConvNet(num_classes=3)
    assert load_weights(model, by_model).ok
    assert torch.equal(model.backbone[1].running_var, state["backbone.conv1.bn.running_var"])
    assert "conv_net" in capsys.readouterr().out


def test_keys_a_converter_or_model_cannot_place_are_errors(make_plugin, tmp_path: Path, capsys) -> None:
    _install(make_plugin)
    src = tmp_path / "mm.pth"
    state = _mmaction_checkpoint(src)
    torch.save({"state_dict": {**state, "cls_head.extra.weight": torch.zeros(1)}}, src)
    out = tmp_path / "out.pth"
    assert main(["convert", str(src), "--out", str(out), "--converter", "convdemo_from_mmaction"]) == 2
    assert "cls_head.extra.weight" in capsys.readouterr().err and not out.exists()
    _mmaction_checkpoint(src)
    assert main(["convert", str(src), "--out", str(out), "--model", "conv_net", "--num-classes", "5"]) == 2
    err = capsys.readouterr().err
    assert "head.weight" in err and len(_error_lines(err)) == 1 and not out.exists()
    assert main(["convert", str(src), "--out", str(out), "--converter", "no_such_converter"]) == 2
    assert "no_such_converter" in capsys.readouterr().err


def test_help_describes_every_option(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    out = capsys.readouterr().out
    for option in (
        "--out",
        "--converter",
        "--model",
        "--trust-pickle",
        "--num-classes",
        "--model-arg",
        "--overwrite",
    ):
        assert option in out
    assert out.count("%(default)") == 0
