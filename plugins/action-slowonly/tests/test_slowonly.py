import json
from pathlib import Path

import torch

from action_resnet3d import load_mmaction2
from action_slowonly import slowonly_r50
from action_slowonly.convert import load_pytorchvideo_slow
from action_testkit import PluginConformance

FIXTURES = Path(__file__).parent / "fixtures"


def test_parameter_count_equals_mmaction2():
    assert sum(p.numel() for p in slowonly_r50(num_classes=400).parameters()) == 32_454_096


def test_architecture_follows_the_mmaction2_config():
    backbone = slowonly_r50(num_classes=10, base_channels=4).backbone
    assert backbone.conv1.conv.kernel_size == (1, 7, 7) and not backbone.with_pool2
    temporal = [
        {block.conv1.conv.kernel_size[0] for block in getattr(backbone, n)} for n in backbone.res_layers
    ]
    assert temporal == [{1}, {1}, {3}, {3}]
    clip = torch.randn(1, 3, 8, 32, 32)
    assert backbone.eval()(clip).shape[2] == 8  # no temporal down-sampling


def test_logits_equal_mmaction2_with_converted_weights():
    reference = torch.load(FIXTURES / "mmaction2_slowonly_r50_tiny.pt", weights_only=True)
    model = slowonly_r50(num_classes=5, base_channels=4)
    assert load_mmaction2(model, reference).ok
    model.eval()
    with torch.no_grad():
        logits = model(reference["input"])
    assert reference["logits"].std() > 0.1
    torch.testing.assert_close(logits, reference["logits"], rtol=0, atol=1e-4)


def test_train_step_updates_weights():
    model = slowonly_r50(num_classes=3, base_channels=4).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.head.fc_cls.weight.detach().clone()
    loss = model.loss(model(torch.randn(2, 3, 4, 32, 32)), torch.tensor([0, 2]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss) and not torch.equal(before, model.head.fc_cls.weight)


class TestConformance(PluginConformance):
    plugin = "slowonly"


def test_full_size_checkpoint_layouts_map_onto_slowonly_r50():
    for name, load in (
        ("mmaction2_slowonly_r50", load_mmaction2),
        ("pytorchvideo_slow_r50", load_pytorchvideo_slow),
    ):
        shapes = json.loads((FIXTURES / f"{name}_keys.json").read_text())
        assert load(slowonly_r50(num_classes=400), {k: torch.zeros(s) for k, s in shapes.items()}).ok, name


def test_logits_equal_pytorchvideo_slow_r50_with_converted_weights():
    reference = torch.load(FIXTURES / "pytorchvideo_slow_r50_tiny.pt", weights_only=True)
    model = slowonly_r50(num_classes=5, base_channels=4)
    assert load_pytorchvideo_slow(model, {"model_state": reference["state_dict"]}).ok
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(reference["input"]), reference["logits"], rtol=0, atol=1e-4)
