import itertools

import pytest
import torch

from action_core import get_registry
from action_core.api import (
    CheckpointMismatchError,
    Recognizer2D,
    count_flops,
    count_parameters,
    export_model,
    load_weights,
)
from action_trn import convert
from action_trn.heads import MultiScaleRelation, TRNHead
from action_trn.models import TRN_WEIGHTS, trn_r50, trn_resnet
from action_tsn.backbones import resnet2d
from action_tsn.partial_bn import FixedBatchNorm2d


def tiny(**kwargs):
    kwargs.setdefault("num_segments", 4)
    return trn_resnet(18, num_classes=5, hidden_dim=16, **kwargs)


def test_parameter_count_equals_mmaction2_and_registration():
    model = trn_r50()
    assert count_parameters(model) == 26_641_154  # MMAction2 TRN-R50, 174 classes
    assert get_registry().get("model", "trn_r50").spec.params == 26_641_154
    assert {w.meta["num_params"] for w in TRN_WEIGHTS.values()} == {26_641_154}
    assert isinstance(model, Recognizer2D) and isinstance(model.head, TRNHead)


def test_partial_bn_fixes_every_batchnorm_but_the_first():
    model = tiny()
    assert set(model.state_dict()) == set(tiny(partial_bn=False).state_dict())  # same checkpoint layout
    norms = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert not isinstance(norms[0], FixedBatchNorm2d)
    assert all(isinstance(m, FixedBatchNorm2d) for m in norms[1:])
    model.train()
    assert norms[0].training and not any(m.training for m in norms[1:])
    assert norms[0].weight.requires_grad and not norms[1].weight.requires_grad
    before = [m.running_mean.clone() for m in norms]
    model(torch.randn(2, 4, 3, 32, 32))
    assert not torch.equal(norms[0].running_mean, before[0])
    assert all(torch.equal(m.running_mean, b) for m, b in zip(norms[1:], before[1:], strict=True))


def test_multi_scale_relation_is_the_sum_over_scales_of_mlps_on_segment_tuples():
    torch.manual_seed(0)
    relation = MultiScaleRelation(hidden_dim=3, num_segments=4, num_classes=2).eval()
    assert relation.scales == (4, 3, 2) and relation.num_picked == [3, 3]
    relation.set_eval_relations([[0, 2, 3], [5, 0, 1]])
    x = torch.randn(2, 4, 3)
    expected = relation.fc_fusion_scales[0](x.flatten(1))
    for i, (scale, choice) in enumerate(zip((3, 2), ([0, 2, 3], [5, 0, 1]), strict=True), start=1):
        tuples = list(itertools.combinations(range(4), scale))
        for j in choice:
            expected = expected + relation.fc_fusion_scales[i](x[:, list(tuples[j])].flatten(1))
    with torch.no_grad():
        torch.testing.assert_close(relation(x), expected)
    with pytest.raises(ValueError, match="distinct indices"):
        relation.set_eval_relations([[0, 0, 1], [0, 1, 2]])


def test_eval_is_deterministic_and_training_draws_tuples():
    torch.manual_seed(0)
    model = tiny(dropout_ratio=0.0)
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        model.eval()
        first, second = model(x), model(x)
        assert torch.equal(first, second)
        assert tiny().head.consensus.eval_relations == model.head.consensus.eval_relations  # seeded draw
        model.head.consensus.train()
        draws = {tuple(model(x)[0].tolist()) for _ in range(6)}
    assert len(draws) > 1


def test_segment_count_is_fixed():
    model = tiny().eval()
    with pytest.raises(ValueError, match="num_segments=4"):
        model(torch.randn(1, 3, 3, 32, 32))


def test_train_steps_reduce_loss():
    torch.manual_seed(0)
    model = tiny(dropout_ratio=0.0, init_std=0.01)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    x, y = torch.randn(4, 4, 3, 32, 32), torch.tensor([0, 1, 0, 1])
    model.head.consensus.eval()  # a fixed draw, so the loss is comparable step to step
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
    if fmt == "onnx":  # the dynamo exporter takes several seconds
        pytest.importorskip("onnxscript")
        pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    report = export_model(tiny(), tmp_path / f"trn.{fmt}", format=fmt, input_shape=(1, 4, 3, 32, 32))
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4


def test_mmaction_round_trip(tmp_path):
    torch.manual_seed(0)
    source = tiny().eval()
    mm = convert.to_mmaction(source)
    assert "backbone.conv1.conv.weight" in mm and "cls_head.fc_cls.weight" in mm
    assert "cls_head.consensus.fc_fusion_scales.2.3.bias" in mm
    torch.save({"state_dict": mm}, tmp_path / "mm.pth")
    loaded = tiny(weights=str(tmp_path / "mm.pth")).eval()
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x))
    single = tiny(multi_scale=False)
    assert "cls_head.consensus.classifier.1.weight" in convert.to_mmaction(single)


def test_unknown_and_mismatched_keys_are_reported():
    mm = convert.to_mmaction(tiny())
    mm["cls_head.mystery.weight"] = torch.zeros(1)
    _, unconverted = convert.from_mmaction(mm)
    assert unconverted == ("cls_head.mystery.weight",)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(tiny(num_segments=3), mm, converter="trn_from_mmaction")
    assert info.value.report.unconverted and info.value.report.shape_mismatch


def test_backbone_is_action_tsn_resnet():
    assert type(tiny().backbone) is type(resnet2d(depth=18))


@pytest.mark.slow
def test_flops_within_2_percent_of_mmaction2_model_zoo():
    # Model zoo: 42.94 G "FLOPs" (multiply-accumulates) for one 8 x 256 x 256 view (the config's ThreeCrop
    # 256 test crop); mmengine's analyzer on MMAction2's model gives 42.95 G there.
    report = count_flops(trn_r50().eval(), (1, 8, 3, 256, 256))
    assert abs(report.macs / 42.94e9 - 1) <= 0.02
