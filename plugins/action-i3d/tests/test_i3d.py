import json
from pathlib import Path

import pytest
import torch
import torchvision

from action_core.api import CheckpointMismatchError
from action_i3d import i3d_r50
from action_resnet3d import NonLocal3d, load_mmaction2
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_equals_mmaction2():
    assert n_params(i3d_r50(num_classes=400)) == 28_043_472
    assert n_params(i3d_r50(num_classes=400, non_local="dot_product")) == 35_397_840


def test_architecture_follows_the_mmaction2_config():
    model = i3d_r50(num_classes=400)
    backbone = model.backbone
    assert backbone.conv1.conv.kernel_size == (5, 7, 7) and backbone.conv1.conv.stride == (2, 2, 2)
    assert backbone.maxpool.stride == (2, 2, 2) and backbone.with_pool2
    temporal = [
        [block.conv1.conv.kernel_size[0] for block in getattr(backbone, n)] for n in backbone.res_layers
    ]
    assert temporal == [[3, 3, 3], [3, 1, 3, 1], [3, 1, 3, 1, 3, 1], [1, 3, 1]]
    assert model.head.dropout.p == 0.5 and model.input_format == "NCTHW"


@pytest.mark.parametrize(
    ("fixture", "non_local"),
    [
        ("i3d_r50_tiny", None),
        ("i3d_r50_nl_dot_product_tiny", "dot_product"),
        ("i3d_r50_nl_embedded_gaussian_tiny", "embedded_gaussian"),
    ],
)
def test_logits_equal_mmaction2_with_converted_weights(fixture, non_local):
    reference = torch.load(FIXTURES / f"mmaction2_{fixture}.pt", weights_only=True)
    model = i3d_r50(num_classes=5, base_channels=4, non_local=non_local)
    assert load_mmaction2(model, reference).ok
    if non_local:
        assert sum(isinstance(m, NonLocal3d) for m in model.modules()) == 5
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1  # the fixture is not degenerate
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_weights_argument_loads_an_mmaction2_file():
    path = FIXTURES / "mmaction2_i3d_r50_tiny.pt"
    reference = torch.load(path, weights_only=True)
    model = i3d_r50(num_classes=5, base_channels=4, weights=str(path)).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
    with pytest.raises(CheckpointMismatchError, match="non_local_block"):
        i3d_r50(num_classes=5, base_channels=4, non_local="dot_product", weights=str(path))
    with pytest.raises(FileNotFoundError, match="known: i3d_r50_32x2x1_kinetics400_mmaction2"):
        i3d_r50(weights="no_such_weights")


def test_imagenet_inflation_fills_every_backbone_unit(tmp_path):
    path = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    model = i3d_r50(num_classes=400, pretrained=str(path))
    report = model.backbone.inflation_report
    assert report.not_inflated == () and report.unused_2d == ("fc.bias", "fc.weight")


class TestConformance(PluginConformance):
    plugin = "i3d"


def test_full_size_mmaction2_checkpoint_layout_maps_onto_i3d_r50():
    shapes = json.loads((FIXTURES / "mmaction2_i3d_r50_keys.json").read_text())
    checkpoint = {"state_dict": {k: torch.zeros(s) for k, s in shapes.items()}}
    assert load_mmaction2(i3d_r50(num_classes=400), checkpoint).ok
