"""Write the reference fixtures of the video Swin parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed, with torchvision beside it (a side environment; neither
reference is a dependency of this package):

    python plugins/action-swin/tools/make_fixtures.py

Each reference builds a *narrow* version of Swin-T (4-wide embedding, two blocks per stage, the real (2, 4, 4)
patches, (4, 3, 3) windows so that the relative position index buffers stay small), gives every parameter random
values and saves ``{"state_dict", "input", "logits", ...}`` (tensors only, eval mode) to
``plugins/action-swin/tests/fixtures/``. Two clip sizes are run: 4x24x24 shifts the first stage's windows
spatially and shrinks the later stages' below the window size (the top-left block of the bias index is used);
12x28x28 also pads, shifts and masks along time. The full (8, 7, 7) window's relative position index is pinned by
two checksums. The tests convert the state dicts with this package's converters, build the same narrow models with
its builders and compare logits, without any reference installed. The full-size models' key names and shapes go
to ``*_keys.json`` so the converters are also pinned at full size.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch
from torch import nn

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
NUM_CLASSES = 5
NARROW = {"embed_dims": 4, "depths": [2, 2, 2, 2], "num_heads": [1, 1, 2, 2]}
WINDOW = (4, 3, 3)
CLIPS = {"": (2, 3, 4, 24, 24), "_shifted_time": (1, 3, 12, 28, 28)}


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values everywhere (also where the references initialise constants), scaled to keep activations O(1)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
            elif param.ndim == 1:  # LayerNorm weights
                param.copy_(1.0 + torch.randn(param.shape, generator=generator) * 0.2)
            elif "relative_position_bias_table" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
            else:
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=generator) / fan_in**0.5)


def index_checksums(index: torch.Tensor) -> torch.Tensor:
    """(sum, position-weighted sum) of a relative position index: pins a 392x392 buffer in two numbers."""
    flat = index.flatten().to(torch.int64)
    return torch.stack((flat.sum(), (flat * torch.arange(flat.numel())).sum()))


def save(name: str, model: nn.Module, generator: torch.Generator, forward, full_index: torch.Tensor) -> None:
    randomize(model, generator)
    model.eval()
    record: dict[str, object] = {"state_dict": {k: v.clone() for k, v in model.state_dict().items()}}
    record["index_877_checksums"] = index_checksums(full_index)
    for key, shape in CLIPS.items():
        x = torch.randn(shape, generator=generator)
        with torch.no_grad():
            logits = forward(model, x)
        record[f"input{key}"], record[f"logits{key}"] = x, logits
    out = FIXTURES / f"{name}.pt"
    torch.save(record, out)
    logits = record["logits"]
    params = sum(p.numel() for p in model.parameters())
    print(f"{out.name}: {params} params, {out.stat().st_size / 1e3:.0f} kB, logits std {logits.std():.3g}")  # type: ignore[union-attr]


def write_keys(name: str, model: nn.Module) -> None:
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    out = FIXTURES / f"{name}_keys.json"
    out.write_text(json.dumps(shapes, indent=0) + "\n")
    print(f"{out.name}: {len(shapes)} keys, {sum(p.numel() for p in model.parameters())} params")


def mmaction2() -> None:
    # MMAction2 1.2.0's multimodal models import names transformers 5 removed; the recognizers do not need them.
    sys.modules.setdefault("mmaction.models.multimodal", types.ModuleType("mmaction.models.multimodal"))
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules()

    def recognizer(arch: object, width: int, num_classes: int, **options: object) -> nn.Module:
        backbone = dict(
            type="SwinTransformer3D",
            arch=arch,
            pretrained=None,
            pretrained2d=False,
            drop_path_rate=0.1,
            **options,
        )
        head = dict(
            type="I3DHead", in_channels=width, num_classes=num_classes, spatial_type="avg", dropout_ratio=0.5
        )
        return MODELS.build(dict(type="Recognizer3D", backbone=backbone, cls_head=head))

    def forward(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return m.cls_head(m.backbone(x))

    full = recognizer("tiny", 768, 400)
    index = full.backbone.layers[0].blocks[0].attn.relative_position_index
    narrow = recognizer(NARROW, 32, NUM_CLASSES, window_size=WINDOW)
    save("mmaction2_swin3d_tiny", narrow, torch.Generator().manual_seed(1), forward, index)
    write_keys("mmaction2_swin3d_t", full)
    for arch, width in (("small", 768), ("base", 1024), ("large", 1536)):
        params = sum(p.numel() for p in recognizer(arch, width, 400).parameters())
        print(f"MMAction2 Swin {arch}: {params} params (400 classes)")


def torchvision_models() -> None:
    from torchvision.models.video import swin3d_t
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    model = SwinTransformer3d(
        patch_size=[2, 4, 4],
        embed_dim=NARROW["embed_dims"],
        depths=NARROW["depths"],
        num_heads=NARROW["num_heads"],
        window_size=list(WINDOW),
        num_classes=NUM_CLASSES,
    )
    full = swin3d_t()
    index = full.features[0][0].attn.relative_position_index
    save("torchvision_swin3d_tiny", model, torch.Generator().manual_seed(2), lambda m, x: m(x), index)
    write_keys("torchvision_swin3d_t", full)


def main() -> None:
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    mmaction2()
    torchvision_models()


if __name__ == "__main__":
    main()
