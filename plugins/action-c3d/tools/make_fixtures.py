"""Write the C3D reference fixture for the parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed (a side environment, never a project dependency), from
the repository root:

    python plugins/action-c3d/tools/make_fixtures.py

MMAction2's ``C3D`` has its widths written into its constructor, so the recognizer of
``c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb`` (built without the Sports-1M download) gets narrow
layers swapped in, built the way ``C3D.__init__`` builds them (``ConvModule`` 3x3x3 with bias and ReLU; widths
4, 8, 8, 16, 16; fc6/fc7 32 wide, fc6 reading the 64 values a 16x32x32 clip pools down to) and 5 classes; the
forward code is MMAction2's own. Every parameter gets random values and ``{"state_dict", "input", "logits"}``
(tensors only, eval mode) is saved, with the key names and shapes of the full-size model in a JSON file.
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
from mmcv.cnn import ConvModule  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "plugins" / "action-c3d" / "tests" / "fixtures"
CONFIG = "recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py"
NUM_CLASSES = 5
WIDTHS = (4, 8, 8, 16, 16)
FC = 32
INPUT = (2, 3, 16, 32, 32)
CONVS = (
    ("conv1a", 0),
    ("conv2a", 1),
    ("conv3a", 2),
    ("conv3b", 2),
    ("conv4a", 3),
    ("conv4b", 3),
    ("conv5a", 4),
    ("conv5b", 4),
)


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random weights of unit-ish scale and random biases, so every path affects the logits."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv3d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                )
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)


def config_dir() -> Path:
    import mmaction

    return Path(mmaction.__file__).parent / ".mim" / "configs"


def main() -> None:
    torch.set_num_threads(1)
    register_all_modules()
    cfg = Config.fromfile(str(config_dir() / CONFIG))
    cfg.model.backbone.pretrained = None  # no Sports-1M download: random weights below

    full = MODELS.build(cfg.model)
    shapes = {k: list(v.shape) for k, v in full.state_dict().items()}
    keys = FIXTURES / "mmaction2_c3d_keys.json"
    keys.write_text(json.dumps(shapes, indent=0) + "\n")
    print(f"{keys.relative_to(ROOT)}: {len(shapes)} keys, {sum(p.numel() for p in full.parameters())} params")

    cfg.model.cls_head.update(num_classes=NUM_CLASSES, in_channels=FC)
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    channels = 3
    for name, index in CONVS:
        conv = ConvModule(
            channels,
            WIDTHS[index],
            kernel_size=(3, 3, 3),
            padding=(1, 1, 1),
            conv_cfg=backbone.conv_cfg,
            norm_cfg=backbone.norm_cfg,
            act_cfg=backbone.act_cfg,
        )
        setattr(backbone, name, conv)
        channels = WIDTHS[index]
    backbone.fc6 = nn.Linear(WIDTHS[-1] * 4, FC)  # pool5 of a 16x32x32 clip: 16 channels x 1 x 2 x 2
    backbone.fc7 = nn.Linear(FC, FC)

    generator = torch.Generator().manual_seed(2015)
    randomize(model, generator)
    model.eval()
    x = torch.randn(INPUT, generator=generator)
    with torch.no_grad():
        logits = model(x.unsqueeze(1), mode="tensor", stage="head")  # (N, views=1, C, T, H, W)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("data_preprocessor")}
    out = FIXTURES / "mmaction2_c3d_tiny.pt"
    torch.save({"state_dict": state, "input": x, "logits": logits}, out)
    size = out.stat().st_size / 1e6
    print(f"{out.relative_to(ROOT)}: {size:.2f} MB, logits {tuple(logits.shape)}, std {logits.std():.3g}")


if __name__ == "__main__":
    main()
