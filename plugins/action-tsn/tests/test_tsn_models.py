import pytest
import torch
import torchvision

from action_core import get_registry
from action_core.api import (
    CheckpointError,
    CheckpointMismatchError,
    Recognizer2D,
    TSNHead,
    WeightsError,
    WeightsInfo,
    count_parameters,
    load_weights,
)
from action_tsn import convert
from action_tsn.backbones import ResNet2d
from action_tsn.models import TSN_WEIGHTS, tsn_r18, tsn_r50, tsn_resnet


def test_tsn_r50_parameter_count_equals_mmaction():
    assert count_parameters(tsn_r50(num_classes=400)) == 24_327_632


@pytest.mark.parametrize("name", ["tsn_r18", "tsn_r34", "tsn_r50", "tsn_r101"])
def test_registered_parameter_counts_are_true(name):
    entry = get_registry().get("model", name)
    assert count_parameters(entry.load()(num_classes=400)) == entry.spec.params


def test_weights_catalogue_parameter_counts():
    configs = {
        (w.builder_kwargs["depth"], w.builder_kwargs["num_classes"], w.meta["num_params"])
        for w in TSN_WEIGHTS.values()
    }
    for depth, num_classes, params in sorted(configs):
        assert count_parameters(tsn_resnet(depth, num_classes=num_classes)) == params


def test_forward_is_segment_consensus_of_frame_features():
    torch.manual_seed(0)
    model = tsn_r18(num_classes=4, dropout_ratio=0.0).eval()
    assert isinstance(model, Recognizer2D) and isinstance(model.head, TSNHead)
    x = torch.randn(2, 3, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)
        # TSN is order-invariant over segments: shuffling the segments changes nothing
        shuffled = model(x[:, [2, 0, 1]])
        per_frame = model.backbone(x.flatten(0, 1)).mean(dim=(2, 3)).reshape(2, 3, -1).mean(1)
    torch.testing.assert_close(logits, shuffled, atol=1e-5, rtol=0)
    torch.testing.assert_close(logits, model.head.fc_cls(per_frame), atol=1e-5, rtol=0)


def test_backbone_keys_are_torchvision_keys():
    ours = set(ResNet2d(50).state_dict())
    theirs = {k for k in torchvision.models.resnet50().state_dict() if not k.startswith("fc.")}
    assert ours == theirs


def test_pretrained_from_hub_cache_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = torchvision.models.resnet18()
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(reference.state_dict(), cache / url.rsplit("/", 1)[-1])
    model = tsn_r18(num_classes=3, pretrained=True)
    torch.testing.assert_close(model.backbone.layer4[1].conv2.weight, reference.layer4[1].conv2.weight)


def test_pretrained_local_file_and_clear_errors(tmp_path):
    reference = torchvision.models.resnet18()
    path = tmp_path / "r18.pth"
    torch.save(reference.state_dict(), path)
    model = tsn_r18(num_classes=3, pretrained=str(path))
    torch.testing.assert_close(model.backbone.conv1.weight, reference.conv1.weight)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tsn_r18(pretrained=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):
        tsn_r18(pretrained="IMAGENET9K")


def test_mmaction_round_trip_and_weights_argument(tmp_path):
    torch.manual_seed(0)
    source = tsn_r18(num_classes=6).eval()
    mm = convert.to_mmaction(source)
    assert "backbone.conv1.conv.weight" in mm and "cls_head.fc_cls.weight" in mm
    assert "backbone.layer2.0.downsample.bn.running_var" in mm
    path = tmp_path / "mm.pth"
    torch.save({"meta": {"epoch": 3}, "state_dict": mm}, path)
    loaded = tsn_r18(num_classes=6, weights=str(path)).eval()
    x = torch.randn(1, 2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x))
    # our own format loads through the same argument
    torch.save({"model": source.state_dict()}, tmp_path / "ours.pth")
    again = tsn_r18(num_classes=6, weights=str(tmp_path / "ours.pth"))
    torch.testing.assert_close(again.head.fc_cls.weight, source.head.fc_cls.weight)


def test_backbone_only_weights_keep_a_new_head(tmp_path):
    source = tsn_r18(num_classes=6)
    torch.save({"state_dict": convert.to_mmaction(source)}, tmp_path / "k.pth")
    model = tsn_r18(num_classes=3, weights=str(tmp_path / "k.pth"), weights_backbone_only=True)
    torch.testing.assert_close(model.backbone.layer1[0].conv1.weight, source.backbone.layer1[0].conv1.weight)
    assert model.head.fc_cls.weight.shape == (3, 512)
    with pytest.raises(CheckpointMismatchError, match="shape"):
        tsn_r18(num_classes=3, weights=str(tmp_path / "k.pth"))


def test_conversion_reports_unknown_and_missing_keys():
    model = tsn_r18(num_classes=6)
    mm = convert.to_mmaction(model)
    mm.pop("backbone.layer3.1.conv2.bn.running_mean")
    mm["backbone.layer3.1.weird.param"] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(model, {"state_dict": mm}, converter="tsn_from_mmaction")
    report = info.value.report
    assert report.unconverted == ("backbone.layer3.1.weird.param",)
    assert report.missing == ("backbone.layer3.1.bn2.running_mean",)
    report = load_weights(model, mm, converter="tsn_from_mmaction", strict=False)
    assert not report.ok and "weird" in report.summary()


def test_export_refuses_unknown_keys():
    state = dict(tsn_r18(num_classes=2).state_dict())
    state["extra.thing"] = torch.zeros(1)
    with pytest.raises(ValueError, match="extra.thing"):
        convert.to_mmaction(state)


def test_unknown_weights_name_is_explained():
    with pytest.raises(WeightsError, match="neither a file, a URL nor a published checkpoint"):
        tsn_r18(weights="tsn_r18_nonexistent")


def test_norm_eval_and_frozen_stages():
    model = tsn_r18(num_classes=2, norm_eval=True, frozen_stages=1)
    model.train()
    assert not model.backbone.bn1.training and not model.backbone.layer2[0].bn1.training
    assert not model.backbone.conv1.weight.requires_grad
    assert not model.backbone.layer1[0].conv1.weight.requires_grad
    assert model.backbone.layer2[0].conv1.weight.requires_grad
    with pytest.raises(ValueError, match="depth"):
        ResNet2d(42)


def test_multi_label_uses_bce_and_trains():
    torch.manual_seed(0)
    model = tsn_r18(num_classes=3, multi_label=True)
    x = torch.randn(2, 2, 3, 32, 32)
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    model.eval()
    logits = model(x)
    loss = model.loss(logits, target)
    torch.testing.assert_close(loss, torch.nn.functional.binary_cross_entropy_with_logits(logits, target))
    loss.backward()
    assert model.backbone.conv1.weight.grad is not None


class Opaque:
    """Stands for a non-tensor object pickled into checkpoint metadata."""


def test_published_weights_resolve_from_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    source = tsn_r18(num_classes=4)
    info = WeightsInfo(
        name="tiny",
        url="https://example.invalid/mm/tiny_20990101.pth",
        source="mmaction2",
        converter="tsn_from_mmaction",
    )
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save({"state_dict": convert.to_mmaction(source)}, cache / "tiny_20990101.pth")
    model = tsn_r18(num_classes=4, weights=info)
    torch.testing.assert_close(model.head.fc_cls.weight, source.head.fc_cls.weight)


def test_checkpoint_needing_arbitrary_unpickling_is_refused(tmp_path):
    path = tmp_path / "unsafe.pth"
    torch.save({"state_dict": convert.to_mmaction(tsn_r18(num_classes=2)), "meta": Opaque()}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        tsn_r18(num_classes=2, weights=str(path))


def test_catalogue_names_resolve_through_the_registration(tmp_path, monkeypatch):
    # core's load_weights finds the name in the catalogue registered as the models' `weights`; the file is
    # taken from the hub cache (a ResNet-18 checkpoint stands in for the published ResNet-50 one).
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    info = TSN_WEIGHTS["tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb"]
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    source = tsn_r18(num_classes=4)
    torch.save({"state_dict": convert.to_mmaction(source)}, cache / info.url.rsplit("/", 1)[-1])
    model = tsn_r18(num_classes=4, weights=info.name)
    torch.testing.assert_close(model.backbone.layer3[1].conv2.weight, source.backbone.layer3[1].conv2.weight)
