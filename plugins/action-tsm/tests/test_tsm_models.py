import pytest
import torch
import torchvision

from action_core import get_registry
from action_core.api import CheckpointMismatchError, TSMHead, count_parameters, load_weights
from action_tsm import convert
from action_tsm.backbones import MobileNetV2TSM, ResNetTSM
from action_tsm.models import TSM_WEIGHTS, tsm_mobilenetv2, tsm_r18, tsm_r50, tsm_resnet
from action_tsm.shift import TemporalShiftConv2d


def test_tsm_r50_parameter_count_equals_mmaction():
    assert count_parameters(tsm_r50(num_classes=400)) == 24_327_632


@pytest.mark.parametrize("name", ["tsm_r18", "tsm_r50", "tsm_mobilenetv2"])
def test_registered_parameter_counts_are_true(name):
    entry = get_registry().get("model", name)
    assert count_parameters(entry.load()(num_classes=400)) == entry.spec.params


def test_weights_catalogue_parameter_counts():
    configs = {
        (w.builder_kwargs["depth"], w.builder_kwargs["num_classes"], w.meta["num_params"])
        for w in TSM_WEIGHTS.values()
    }
    for depth, num_classes, params in sorted(configs):
        assert count_parameters(tsm_resnet(depth, num_classes=num_classes)) == params


def test_shift_placement_blockres_every_block_and_every_second_for_deep_stages():
    r50 = ResNetTSM(50, num_segments=4)
    assert all(isinstance(b.conv1, TemporalShiftConv2d) for s in r50.stages() for b in s)
    r101 = ResNetTSM(101, num_segments=4)
    for stage in r101.stages():
        flags = [isinstance(b.conv1, TemporalShiftConv2d) for b in stage]
        assert flags == [i % 2 == 0 for i in range(len(stage))]
    assert ResNetTSM(18, shift_place="residual").shift_place == "blockres"
    assert not any(isinstance(m, TemporalShiftConv2d) for m in ResNetTSM(18, shift_place="block").modules())
    with pytest.raises(ValueError, match="shift_place"):
        ResNetTSM(18, shift_place="everywhere")


def test_keys_are_torchvision_keys_so_imagenet_weights_load():
    theirs = {k for k in torchvision.models.resnet50().state_dict() if not k.startswith("fc.")}
    assert set(ResNetTSM(50, temporal_pool=True).state_dict()) == theirs
    mobilenet = {k for k in torchvision.models.mobilenet_v2().state_dict() if k.startswith("features.")}
    assert set(MobileNetV2TSM().state_dict()) == mobilenet


@pytest.mark.parametrize("kwargs", [{}, {"shift_place": "block"}, {"temporal_pool": True}])
def test_shift_mixes_time_and_tsn_does_not(kwargs):
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3, 32, 32)
    changed = x.clone()
    changed[0, 3] += 1.0
    tsm = tsm_r18(num_classes=3, num_segments=4, **kwargs).backbone.eval()
    tsn = tsm_r18(num_classes=3, num_segments=4, is_shift=False).backbone.eval()
    with torch.no_grad():
        d_tsm = (tsm(x.flatten(0, 1)) - tsm(changed.flatten(0, 1))).abs().flatten(1).amax(1)
        d_tsn = (tsn(x.flatten(0, 1)) - tsn(changed.flatten(0, 1))).abs().flatten(1).amax(1)
    segments = d_tsm.shape[0]
    assert torch.all(d_tsm[: segments - 1] > 0)  # other segments see the change through the shift
    assert torch.all(d_tsn[:3] == 0)  # frames are independent without shift


def test_forward_shapes_and_segment_check():
    model = tsm_r18(num_classes=5, num_segments=4, temporal_pool=True).eval()
    assert isinstance(model.head, TSMHead) and model.input_format == "NTCHW"
    with torch.no_grad():
        assert model(torch.randn(2, 4, 3, 32, 32)).shape == (2, 5)
        with pytest.raises(ValueError, match="num_segments=4"):
            model(torch.randn(1, 3, 3, 32, 32))
    assert tsm_mobilenetv2(num_classes=5, num_segments=2).eval()(torch.randn(1, 2, 3, 32, 32)).shape == (1, 5)


def test_train_steps_reduce_loss():
    torch.manual_seed(0)
    model = tsm_r18(num_classes=2, num_segments=2, dropout_ratio=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(4, 2, 3, 32, 32), torch.tensor([0, 1, 0, 1])
    losses = []
    for _ in range(5):
        loss = model.loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("kwargs", [{}, {"shift_place": "block"}, {"temporal_pool": True}])
def test_mmaction_round_trip(kwargs, tmp_path):
    torch.manual_seed(0)
    source = tsm_r18(num_classes=4, num_segments=4, **kwargs).eval()
    mm = convert.to_mmaction(source)
    if kwargs.get("temporal_pool"):
        assert "backbone.layer2.net.0.conv1.conv.net.weight" in mm
    elif kwargs.get("shift_place") == "block":
        assert "backbone.layer1.0.net.conv1.conv.weight" in mm
    else:
        assert "backbone.layer1.0.conv1.conv.net.weight" in mm
    torch.save({"state_dict": mm}, tmp_path / "mm.pth")
    loaded = tsm_r18(num_classes=4, num_segments=4, weights=str(tmp_path / "mm.pth"), **kwargs).eval()
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x))


def test_mobilenet_round_trip(tmp_path):
    torch.manual_seed(0)
    source = tsm_mobilenetv2(num_classes=4, num_segments=2).eval()
    mm = convert.to_mmaction(source)
    assert "backbone.layer2.1.conv.0.net.conv.weight" in mm and "backbone.conv2.bn.weight" in mm
    torch.save(mm, tmp_path / "mm.pth")
    loaded = tsm_mobilenetv2(num_classes=4, num_segments=2, weights=str(tmp_path / "mm.pth")).eval()
    x = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x))


def test_wrong_architecture_checkpoint_is_reported():
    mm = convert.to_mmaction(tsm_r18(num_classes=4))
    model = tsm_r50(num_classes=4)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(model, mm, converter="tsm_from_mmaction")
    report = info.value.report
    assert report.missing and report.shape_mismatch
    assert "depth" in str(info.value)
