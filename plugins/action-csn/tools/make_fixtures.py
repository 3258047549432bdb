"""Write the CSN reference fixtures for the parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed (a side environment, never a project dependency), from
the repository root:

    python plugins/action-csn/tools/make_fixtures.py

The recognizers of ``ircsn_ig65m-pretrained-r152-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb`` and of its
ip-CSN sibling ``ipcsn_ig65m-pretrained-r152-bnfrozen_32x2x1-58e_kinetics400-rgb`` are built from their
configs without the IG-65M download, made narrow (ResNet-50 depth, ``base_channels=4``) with 5 classes. Every
parameter and BatchNorm statistic gets random values; ``{"state_dict", "input", "logits"}`` (tensors only,
eval mode) is saved, with the key names and shapes of the full-size ir-CSN-152 in a JSON file.
"""

from __future__ import annotations

import json
from pathlib import Path

import mmaction.utils.dependency
import torch
from mmengine import Config

# VindLU (multimodal) needs an older transformers than the side environment may have; no fixture uses it.
mmaction.utils.dependency.WITH_MULTIMODAL = False

from mmaction.registry import MODELS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "plugins" / "action-csn" / "tests" / "fixtures"
CONFIGS = {
    "ircsn": "recognition/csn/ircsn_ig65m-pretrained-r152-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb.py",
    "ipcsn": "recognition/csn/ipcsn_ig65m-pretrained-r152-bnfrozen_32x2x1-58e_kinetics400-rgb.py",
}
NUM_CLASSES = 5
INPUT = (2, 3, 8, 32, 32)


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values everywhere, and random BatchNorm statistics, so every path affects the logits."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                )
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.5 + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.1)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.01)


def config(name: str) -> Config:
    import mmaction

    cfg = Config.fromfile(str(Path(mmaction.__file__).parent / ".mim" / "configs" / CONFIGS[name]))
    cfg.model.backbone.pretrained = None  # no IG-65M download: random weights below
    return cfg


def main() -> None:
    torch.set_num_threads(1)
    register_all_modules()
    full = MODELS.build(config("ircsn").model)
    shapes = {k: list(v.shape) for k, v in full.state_dict().items()}
    keys = FIXTURES / "mmaction2_ircsn_r152_keys.json"
    keys.write_text(json.dumps(shapes, indent=0) + "\n")
    print(f"{keys.relative_to(ROOT)}: {len(shapes)} keys, {sum(p.numel() for p in full.parameters())} params")

    for seed, name in enumerate(CONFIGS):
        cfg = config(name)
        cfg.model.backbone.update(depth=50, base_channels=4)
        cfg.model.cls_head.update(in_channels=4 * 8 * 4, num_classes=NUM_CLASSES)
        model = MODELS.build(cfg.model)
        generator = torch.Generator().manual_seed(2019 + seed)
        randomize(model, generator)
        model.eval()
        x = torch.randn(INPUT, generator=generator)
        with torch.no_grad():
            logits = model(x.unsqueeze(1), mode="tensor", stage="head")  # (N, views=1, C, T, H, W)
        state = {k: v for k, v in model.state_dict().items() if not k.startswith("data_preprocessor")}
        out = FIXTURES / f"mmaction2_{name}_r50_tiny.pt"
        torch.save({"state_dict": state, "input": x, "logits": logits}, out)
        size = out.stat().st_size / 1e6
        print(f"{out.relative_to(ROOT)}: {size:.2f} MB, logits {tuple(logits.shape)}, std {logits.std():.3g}")


if __name__ == "__main__":
    main()
