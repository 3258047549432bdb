import pytest
import torch

from action_core import get_registry
from action_core.api import (
    CheckpointMismatchError,
    I3DHead,
    Recognizer2D,
    count_flops,
    count_parameters,
    export_model,
    load_weights,
)
from action_tpn import convert
from action_tpn.backbones import TSMStages, resnet_tsm_stages
from action_tpn.models import TPN_WEIGHTS, tpn_tsm_r50, tpn_tsm_resnet
from action_tpn.necks import TPN

NARROW = {"channels": 32, "fusion_channels": 64, "out_channels": 64}


def tiny(**kwargs):
    kwargs.setdefault("neck_args", NARROW)
    return tpn_tsm_resnet(18, num_classes=5, **kwargs)


def test_parameter_count_equals_mmaction2_and_registration():
    model = tpn_tsm_r50()
    assert count_parameters(model) == 82_445_724  # MMAction2 TPN-TSM-R50, 174 classes
    assert get_registry().get("model", "tpn_tsm_r50").spec.params == 82_445_724
    assert {w.meta["num_params"] for w in TPN_WEIGHTS.values()} == {82_445_724}
    assert isinstance(model, Recognizer2D) and isinstance(model.head, I3DHead)
    assert model.neck.aux_head.fc.out_features == 174


def test_stage_wrapper_returns_clip_tensors_of_layer3_and_layer4():
    backbone = resnet_tsm_stages(depth=18, num_segments=4).eval()
    assert isinstance(backbone, TSMStages) and backbone.out_channels == (256, 512)
    frames = torch.randn(2 * 4, 3, 64, 64)
    with torch.no_grad():
        layer3, layer4 = backbone(frames)
        reference = backbone.body(frames)  # action-tsm's own forward
    assert layer3.shape == (2, 256, 4, 4, 4) and layer4.shape == (2, 512, 4, 2, 2)
    torch.testing.assert_close(layer4, reference.reshape(2, 4, 512, 2, 2).transpose(1, 2), rtol=0, atol=0)
    with pytest.raises(ValueError, match="num_segments=4"):
        backbone(torch.randn(6, 3, 32, 32))
    with pytest.raises(ValueError, match="out_indices"):
        resnet_tsm_stages(depth=18, out_indices=(3, 2))


def test_neck_pools_time_and_fuses_levels():
    neck = TPN(in_channels=(256, 512), **NARROW).eval()
    feats = (torch.randn(2, 256, 8, 4, 4), torch.randn(2, 512, 8, 2, 2))
    with torch.no_grad():
        assert neck(feats).shape == (2, 64, 1, 2, 2)
    with pytest.raises(ValueError, match="2 clip feature maps"):
        neck(feats[:1])
    with pytest.raises(ValueError, match="power of two"):
        TPN(in_channels=(384, 512), **NARROW)


def test_aux_head_runs_in_training_only_and_adds_to_the_loss():
    torch.manual_seed(0)
    model = tiny(num_segments=4)
    x, y = torch.randn(2, 4, 3, 32, 32), torch.tensor([1, 3])
    model.train()
    logits = model(x)
    aux_logits = model.neck.aux_logits
    assert aux_logits.shape == (2, 5) and aux_logits.requires_grad
    expected = model.head.loss(logits, y) + 0.5 * torch.nn.functional.cross_entropy(aux_logits, y)
    loss = model.loss(logits, y)
    torch.testing.assert_close(loss, expected)
    assert model.neck.aux_logits is None  # consumed by the loss
    loss.backward()
    assert model.neck.aux_head.fc.weight.grad is not None

    model.eval()
    with torch.no_grad():
        logits = model(x)
    assert model.neck.aux_logits is None
    torch.testing.assert_close(model.loss(logits, y), model.head.loss(logits, y))

    no_aux = tiny(num_segments=4, aux_head=False)
    assert no_aux.neck.aux_head is None and no_aux.train()(x).shape == (2, 5)


def test_train_steps_reduce_loss():
    torch.manual_seed(0)
    model = tiny(num_segments=4, dropout_ratio=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(4, 4, 3, 32, 32), torch.tensor([0, 1, 0, 1])
    losses = []
    for _ in range(4):
        loss = model.loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("fmt", ["torchscript", pytest.param("onnx", marks=pytest.mark.slow)])
def test_export_matches_eager(fmt, tmp_path):
    if fmt == "onnx":  # the dynamo exporter takes ~10 s on this graph
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    report = export_model(tiny(), tmp_path / f"tpn.{fmt}", format=fmt, input_shape=(1, 8, 3, 32, 32))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


def test_mmaction_round_trip(tmp_path):
    torch.manual_seed(0)
    source = tiny().eval()
    mm = convert.to_mmaction(source)
    assert "backbone.layer1.0.conv1.conv.net.weight" in mm
    assert "neck.spatial_modulation.spatial_modulation.0.0.conv.weight" in mm
    assert "neck.aux_head.fc.weight" in mm and "cls_head.fc_cls.weight" in mm
    torch.save({"state_dict": mm}, tmp_path / "mm.pth")
    loaded = tiny(weights=str(tmp_path / "mm.pth")).eval()
    x = torch.randn(1, 8, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x))
    backbone_only = tiny(weights=str(tmp_path / "mm.pth"), weights_backbone_only=True)
    torch.testing.assert_close(backbone_only.backbone.body.conv1.weight, source.backbone.body.conv1.weight)


def test_unknown_and_mismatched_keys_are_reported():
    mm = convert.to_mmaction(tiny())
    mm["neck.mystery.weight"] = torch.zeros(1)
    converted, unconverted = convert.from_mmaction(mm)
    assert unconverted == ("neck.mystery.weight",)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(tiny(neck_args={**NARROW, "channels": 64}), mm, converter="tpn_from_mmaction")
    assert info.value.report.unconverted and info.value.report.shape_mismatch


@pytest.mark.slow
def test_flops_within_2_percent_of_mmaction2_model_zoo():
    # Model zoo: 54202822656 FLOPs (MMAction2 counts multiply-accumulates) for one 8 x 256 x 256 view
    # (the config's ThreeCrop 256 test crop); mmengine's analyzer on MMAction2's model gives 54.09 G there.
    report = count_flops(tpn_tsm_r50(), (1, 8, 3, 256, 256))
    assert abs(report.macs / 54_202_822_656 - 1) <= 0.02
