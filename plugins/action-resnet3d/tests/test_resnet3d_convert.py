from pathlib import Path

import pytest
import torch

from action_core.api import CheckpointError, CheckpointMismatchError, compose_model, load_weights
from action_resnet3d import convert_mmaction2, export_mmaction2, feature_width
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def recognizer(num_classes: int, **backbone: object):
    """A recognizer composed of the registered ``resnet3d`` backbone and core's I3D head."""
    width = feature_width(
        backbone.get("depth", 50), base_channels=backbone.get("base_channels", 64), num_stages=4
    )
    return compose_model(
        {
            "type": "Recognizer3D",
            "backbone": {"type": "resnet3d", **backbone},
            "head": {"type": "i3d_head", "num_classes": num_classes, "in_channels": width},
        }
    )


def tiny_recognizer():
    return recognizer(3, depth=18, base_channels=4)


def test_export_then_convert_round_trips_to_identical_outputs(tmp_path):
    source, target = tiny_recognizer().eval(), tiny_recognizer().eval()
    exported = export_mmaction2(source)
    assert "cls_head.fc_cls.weight" in exported and "backbone.layer1.0.conv1.conv.weight" in exported
    path = tmp_path / "mm.pth"
    torch.save({"meta": {"epoch": 3}, "state_dict": exported}, path)
    assert load_weights(target, path, converter="mmaction2_resnet3d").ok
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(target(x), source(x))


def test_unknown_and_missing_keys_are_reported_not_dropped():
    state = export_mmaction2(tiny_recognizer())
    state["cls_head.fc_extra.weight"] = torch.zeros(1)
    state["backbone.layer9.0.conv1.conv.weight"] = torch.zeros(1)
    del state["backbone.layer1.0.conv1.bn.running_mean"]
    converted, unconverted = convert_mmaction2(state)
    assert unconverted == ("cls_head.fc_extra.weight",)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(tiny_recognizer(), state, converter="mmaction2_resnet3d")
    report = info.value.report
    assert report.unconverted == ("cls_head.fc_extra.weight",)
    assert report.unexpected == ("backbone.layer9.0.conv1.conv.weight",)
    assert report.missing == ("backbone.layer1.0.conv1.bn.running_mean",)
    lenient = load_weights(tiny_recognizer(), state, converter="mmaction2_resnet3d", strict=False)
    assert not lenient.ok and lenient.missing == report.missing


def test_unreadable_checkpoint_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "broken.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"broken\.pth"):
        convert_mmaction2(path)


class TestConformance(PluginConformance):
    plugin = "resnet3d"


# The same options as tools/make_mmaction2_fixtures.py OPTIONS (MMAction2 ResNet3d options that no published
# config uses: basic blocks with temporal strides, caffe-style strides with 3x3x3 inflation, dilation).
OPTIONS = {
    "basic18_tstrides": dict(
        depth=18, base_channels=4, conv1_kernel=(3, 7, 7), temporal_strides=(1, 2, 1, 2)
    ),
    "caffe_3x3x3": dict(depth=50, base_channels=2, style="caffe", inflate_style="3x3x3"),
    "dilated": dict(
        depth=50, base_channels=2, dilations=(1, 1, 2, 2), spatial_strides=(1, 2, 1, 1), with_pool2=False
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_backbone_options_match_mmaction2_logits(name):
    reference = torch.load(FIXTURES / f"mmaction2_resnet3d_{name}_tiny.pt", weights_only=True)
    model = recognizer(5, **OPTIONS[name])
    assert load_weights(model, reference, converter="mmaction2_resnet3d").ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
