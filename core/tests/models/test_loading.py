"""load_weights: the one way weights get into a model (files, mappings, published names, URLs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from action_core.api import (
    CheckpointError,
    CheckpointMismatchError,
    WeightsError,
    WeightsInfo,
    load_weights,
    rename_keys,
)


class Net(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, classes)


def foreign(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The same weights under another toolbox's names (``net.`` instead of ``backbone.``)."""
    return {k.replace("backbone.", "net."): v for k, v in state.items()}


def from_foreign(checkpoint):
    state = checkpoint.get("state_dict", checkpoint)
    return rename_keys(state, [(r"net\.(.+)", r"backbone.\1"), (r"(head\..+)", r"\1")])


def randomised(model: nn.Module) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}


def test_our_layout_loads_as_is_from_a_file(tmp_path: Path) -> None:
    weights = randomised(Net())
    torch.save({"model": weights}, tmp_path / "m.pth")
    model = Net()
    report = load_weights(model, tmp_path / "m.pth")
    assert report.ok
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())


def test_a_named_converter_is_used_and_every_key_reported(tmp_path: Path) -> None:
    weights = randomised(Net())
    checkpoint = {"state_dict": {**foreign(weights), "extra.thing": torch.zeros(1)}}
    with pytest.raises(CheckpointMismatchError, match="extra.thing"):
        load_weights(Net(), checkpoint, converter=from_foreign)
    report = load_weights(Net(), checkpoint, converter=from_foreign, strict=False)
    assert report.unconverted == ("extra.thing",) and not report.missing


def test_fine_tuning_reinitialises_a_head_of_another_size() -> None:
    weights = randomised(Net(classes=3))
    model = Net(classes=5)
    fresh_head = model.head.weight.clone()
    with pytest.raises(CheckpointMismatchError, match="head.weight"):
        load_weights(model, {"model": weights})
    report = load_weights(model, {"model": weights}, reinit_mismatched_head=True)
    assert set(report.reinitialised) == {"head.weight", "head.bias"} and report.ok
    assert torch.equal(model.head.weight, fresh_head)
    assert torch.equal(model.backbone[0].weight, weights["backbone.0.weight"])


def test_backbone_only() -> None:
    weights = randomised(Net(classes=3))
    model = Net(classes=9)
    assert load_weights(model, {"model": weights}, backbone_only=True).ok
    assert torch.equal(model.backbone[1].running_var, weights["backbone.1.running_var"])


class _Payload:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    torch.save({"model": randomised(Net()), "x": _Payload(marker)}, tmp_path / "bomb.pth")
    with pytest.raises(CheckpointError, match="pickled"):
        load_weights(Net(), tmp_path / "bomb.pth")
    assert not marker.exists()


def test_a_published_name_or_url_is_read_from_the_hub_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    weights = randomised(Net())
    cached = tmp_path / "checkpoints" / "net_weights.pth"
    cached.parent.mkdir()
    torch.save({"model": weights}, cached)  # as if downloaded before: no network is used
    model = Net()
    assert load_weights(model, "https://example.org/models/net_weights.pth").ok
    info = WeightsInfo(name="net", url="https://example.org/net_weights.pth", source="us", converter="")
    assert load_weights(Net(), info, converter=None).ok


def test_unknown_sources_say_what_they_are_not() -> None:
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
        load_weights(Net(), "no_such_weights_anywhere")
