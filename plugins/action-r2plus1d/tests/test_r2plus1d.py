import json
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from action_core.api import CheckpointMismatchError
from action_r2plus1d import (
    Conv2plus1d,
    convert_torchvision_r2plus1d,
    load_torchvision_r2plus1d,
    mid_channels,
    r2plus1d_18,
    r2plus1d_r34,
)
from action_resnet3d import load_mmaction2
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def randomize(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.25)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))


def test_parameter_counts():
    assert n_params(r2plus1d_r34(num_classes=400)) == 63_759_281
    assert (
        n_params(r2plus1d_18(num_classes=400))
        == 31_505_325
        == n_params(torchvision.models.video.r2plus1d_18())
    )


def test_mid_channel_formula():
    # t d^2 N_in N_out / (d^2 N_in + t N_out), floored
    assert mid_channels(64, 64) == 144
    assert mid_channels(64, 128) == 230
    assert Conv2plus1d(3, 64, (3, 7, 7)).mid_channels == 83  # MMAction2's stem
    assert Conv2plus1d(64, 128, 1).mid_channels == 54  # MMAction2 factorises 1x1x1 shortcuts too


def test_mmaction2_form_keeps_its_norm_epsilons():
    backbone = r2plus1d_r34(num_classes=10, base_channels=2).backbone
    assert backbone.layer1[0].conv1.bn.eps == 1e-3
    assert backbone.layer1[0].conv1.conv.bn_s.eps == 1e-5


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_r2plus1d_r34_tiny.pt", weights_only=True)
    model = r2plus1d_r34(num_classes=5, base_channels=2)
    assert load_mmaction2(model, reference).ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("train", [False, True])
def test_r2plus1d_18_equals_torchvision_with_converted_weights(train):
    torch.manual_seed(0)
    reference = torchvision.models.video.r2plus1d_18(num_classes=7)
    randomize(reference)
    model = r2plus1d_18(num_classes=7)
    assert load_torchvision_r2plus1d(model, reference.state_dict()).ok
    reference.train(train)
    model.train(train)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=1e-4)


def test_torchvision_conversion_reports_foreign_keys():
    state = torchvision.models.video.r2plus1d_18(num_classes=7).state_dict()
    state["layer1.0.se.weight"] = torch.zeros(1)
    _, unconverted = convert_torchvision_r2plus1d(state)
    assert unconverted == ("layer1.0.se.weight",)
    with pytest.raises(CheckpointMismatchError, match="layer1.0.se.weight"):
        load_torchvision_r2plus1d(r2plus1d_18(num_classes=7), state)
    del state["layer1.0.se.weight"]
    with pytest.raises(CheckpointMismatchError, match="head.fc_cls.weight"):
        load_torchvision_r2plus1d(r2plus1d_18(num_classes=400), state)


class TestConformance(PluginConformance):
    plugin = "r2plus1d"


def test_full_size_mmaction2_checkpoint_layout_maps_onto_r2plus1d_r34():
    shapes = json.loads((FIXTURES / "mmaction2_r2plus1d_r34_keys.json").read_text())
    assert load_mmaction2(r2plus1d_r34(num_classes=400), {k: torch.zeros(s) for k, s in shapes.items()}).ok
