import pytest
import torch
from torch import nn

from action_core.models import (
    CheckpointMismatchError,
    extract_state_dict,
    load_converted,
    rename_keys,
)


def small_model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_rename_keys_reports_unmatched():
    sd = {"a.conv.weight": torch.ones(1), "a.bn.bias": torch.ones(1), "extra": torch.ones(1)}
    out, unconverted = rename_keys(sd, [(r"a\.conv\.(\w+)", r"0.\1"), (r"a\.bn\.(\w+)", r"1.\1")])
    assert set(out) == {"0.weight", "1.bias"}
    assert unconverted == ("extra",)


def test_rename_keys_refuses_collisions():
    with pytest.raises(ValueError, match="both map"):
        rename_keys({"x.a": torch.ones(1), "y.a": torch.ones(1)}, [(r"\w\.a", "a")])


def test_load_converted_strict_reports_everything():
    model = small_model()
    sd = dict(model.state_dict())
    sd.pop("1.running_mean")
    sd["0.weight"] = torch.zeros(5, 3)
    sd["surplus"] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as info:
        load_converted(model, sd, unconverted=["mm.thing"], source="ckpt.pth")
    report = info.value.report
    assert report.missing == ("1.running_mean",)
    assert report.unexpected == ("surplus",)
    assert report.unconverted == ("mm.thing",)
    assert report.shape_mismatch == (("0.weight", (5, 3), (4, 3)),)
    assert "ckpt.pth" in str(info.value)


def test_load_converted_non_strict_loads_matching_tensors():
    model = small_model()
    sd = {"0.bias": torch.full((4,), 7.0), "nope": torch.zeros(1)}
    report = load_converted(model, sd, strict=False)
    assert not report.ok and report.unexpected == ("nope",)
    torch.testing.assert_close(model[0].bias.data, torch.full((4,), 7.0))


def test_load_converted_ok():
    src, dst = small_model(), small_model()
    assert load_converted(dst, src.state_dict()).ok
    torch.testing.assert_close(dst[0].weight, src[0].weight)


def test_extract_state_dict_unwraps():
    sd = {"module.w": torch.ones(1)}
    assert list(extract_state_dict({"state_dict": sd, "meta": {"epoch": 3}})) == ["w"]
    assert list(extract_state_dict({"model": {"w": torch.ones(1)}})) == ["w"]
    with pytest.raises(ValueError, match="no tensors"):
        extract_state_dict({"meta": 1})
