"""Write the X3D reference fixtures for the parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 and PyTorchVideo 0.1.5 installed (a side environment, never a
project dependency), from the repository root:

    python plugins/action-x3d/tools/make_fixtures.py

MMAction2: the model of ``x3d_s_13x6x1_facebook-kinetics400-rgb`` (X3D-M's config builds the same network)
made narrow (``gamma_w=1/3``: an 8-channel stem; ``gamma_d=0.5``: 1, 1, 3, 2 blocks), 5 classes, and its
head's 2048-wide hidden layer (a constant in ``X3DHead``) replaced by a 16-wide one; the forward code is
MMAction2's own. PyTorchVideo: ``create_x3d`` with the hub's ``x3d_s`` settings at the same narrow widths
(``stem_dim_in=4``, ``depth_factor=0.5``, ``head_dim_out=16``), its head pool sized for the fixture's clip.

Every parameter and BatchNorm statistic gets random values; each fixture holds ``{"state_dict", "input",
"logits"}`` (tensors only, eval mode; PyTorchVideo's also ``"probabilities"``, the hub model's softmax output).
The key names and shapes of the full-size models go to ``*_keys.json``.
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
from pytorchvideo.models.hub import x3d_s as pytorchvideo_x3d_s  # noqa: E402
from pytorchvideo.models.x3d import create_x3d  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "plugins" / "action-x3d" / "tests" / "fixtures"
CONFIG = "recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py"
NUM_CLASSES = 5
MID = 16
INPUT = (2, 3, 4, 40, 40)


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random weights of unit-ish scale and random BatchNorm statistics (so eval-mode BN is not the identity)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                )
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.5 + 0.75)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, nn.Linear):
                fan_in = module.weight.shape[1]
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5
                )
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)


def config_dir() -> Path:
    import mmaction

    return Path(mmaction.__file__).parent / ".mim" / "configs"


def save(name: str, payload: dict) -> None:
    out = FIXTURES / f"{name}.pt"
    torch.save(payload, out)
    params = sum(v.numel() for k, v in payload["state_dict"].items() if "num_batches" not in k)
    std = payload["logits"].std()
    print(
        f"{out.relative_to(ROOT)}: {params} state values, {out.stat().st_size / 1e6:.2f} MB, logit std {std:.3g}"
    )


def write_keys(name: str, model: nn.Module) -> None:
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    out = FIXTURES / f"{name}_keys.json"
    out.write_text(json.dumps(shapes, indent=0) + "\n")
    print(f"{out.relative_to(ROOT)}: {len(shapes)} keys, {sum(p.numel() for p in model.parameters())} params")


def mmaction2_fixture(generator: torch.Generator, x: torch.Tensor) -> None:
    cfg = Config.fromfile(str(config_dir() / CONFIG))
    write_keys("mmaction2_x3d_s", MODELS.build(cfg.model))
    cfg.model.backbone.update(gamma_w=1 / 3, gamma_d=0.5)
    cfg.model.cls_head.update(in_channels=144, num_classes=NUM_CLASSES)
    model = MODELS.build(cfg.model)
    head = model.cls_head
    head.mid_channels = MID
    head.fc1 = nn.Linear(head.in_channels, MID, bias=False)
    head.fc2 = nn.Linear(MID, NUM_CLASSES)
    randomize(model, generator)
    model.eval()
    with torch.no_grad():
        logits = model(x.unsqueeze(1), mode="tensor", stage="head")  # (N, views=1, C, T, H, W)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("data_preprocessor")}
    save("mmaction2_x3d_s_tiny", {"state_dict": state, "input": x, "logits": logits})


def pytorchvideo_fixture(generator: torch.Generator, x: torch.Tensor) -> None:
    write_keys("pytorchvideo_x3d_s", pytorchvideo_x3d_s(pretrained=False))
    model = create_x3d(
        input_clip_length=INPUT[2],
        input_crop_size=INPUT[3],
        model_num_class=NUM_CLASSES,
        stem_dim_in=4,
        depth_factor=0.5,
        head_dim_out=MID,
    )
    randomize(model, generator)
    model.eval()
    with torch.no_grad():
        probabilities = model(x)
        model.blocks[-1].activation = None  # the hub model ends with a softmax; logits come before it
        logits = model(x)
    save(
        "pytorchvideo_x3d_s_tiny",
        {
            "state_dict": dict(model.state_dict()),
            "input": x,
            "logits": logits,
            "probabilities": probabilities,
        },
    )


def main() -> None:
    torch.set_num_threads(1)
    register_all_modules()
    generator = torch.Generator().manual_seed(2022)
    x = torch.randn(INPUT, generator=generator)
    mmaction2_fixture(generator, x)
    pytorchvideo_fixture(generator, x)


if __name__ == "__main__":
    main()
