"""Write the reference fixtures of the MViT parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed, with torchvision and PyTorchVideo 0.1.5 beside it (a side
environment; none of them is a dependency of this package):

    python plugins/action-mvit/tools/make_fixtures.py

Each reference builds a *narrow* version of its real architecture (8-wide embedding, 4 blocks with a downscale at
blocks 1, 2 and 3, a 4x32x32 clip: every code path of the full models, a few kilobytes of weights), gives every
parameter random values, and saves ``{"state_dict", "input", "logits", ...}`` (tensors only, eval mode) to
``plugins/action-mvit/tests/fixtures/``. The tests convert the state dicts with this package's converters, build the
same narrow models with its builders and compare logits, without any reference installed. The full-size models'
key names and shapes go to ``*_keys.json`` so the converters are also pinned at full size.
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
EMBED, LAYERS, DOWNSCALE = 8, 4, (1, 2, 3)
CLIP = (2, 3, 4, 32, 32)  # built-for size (temporal_size=4, spatial_size=32)
OTHER_CLIP = (1, 3, 6, 40, 40)  # another size: the relative position tables are interpolated


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values everywhere (also where the references initialise constants), scaled to keep activations O(1)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)
            elif param.ndim == 1:  # LayerNorm weights, torchvision's flat class token
                param.copy_(1.0 + torch.randn(param.shape, generator=generator) * 0.2)
            elif "rel_pos" in name or "token" in name or "pos" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
            else:
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=generator) / fan_in**0.5)


def save(
    name: str, model: nn.Module, generator: torch.Generator, clips: dict[str, tuple[int, ...]], forward
) -> None:
    randomize(model, generator)
    model.eval()
    record: dict[str, object] = {"state_dict": {k: v.clone() for k, v in model.state_dict().items()}}
    for key, shape in clips.items():
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

    def recognizer(arch: object, width: int, **backbone: object) -> nn.Module:
        return MODELS.build(
            dict(
                type="Recognizer3D",
                backbone=dict(type="MViT", arch=arch, **backbone),
                cls_head=dict(
                    type="MViTHead", in_channels=width, num_classes=NUM_CLASSES if width < 768 else 400
                ),
            )
        )

    narrow = {"embed_dims": EMBED, "num_layers": LAYERS, "num_heads": 1, "downscale_indices": list(DOWNSCALE)}
    model = recognizer(narrow, EMBED * 8, spatial_size=32, temporal_size=4)

    def forward(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return m.cls_head(m.backbone(x))

    save(
        "mmaction2_mvit_v2_tiny",
        model,
        torch.Generator().manual_seed(1),
        {"": CLIP, "_other": OTHER_CLIP},
        forward,
    )
    write_keys("mmaction2_mvit_v2_s", recognizer("small", 768, drop_path_rate=0.2))
    for arch, width, size in (
        ("base", 768, {"temporal_size": 32}),
        ("large", 1152, {"temporal_size": 40, "spatial_size": 312}),
    ):
        params = sum(p.numel() for p in recognizer(arch, width, **size).parameters())
        print(f"MMAction2 MViT {arch} {size}: {params} params (400 classes)")


def torchvision_models() -> None:
    from torchvision.models.video import mvit_v1_b, mvit_v2_s
    from torchvision.models.video.mvit import MSBlockConfig, MViT

    def blocks(v2: bool) -> list[MSBlockConfig]:
        settings, dims, heads, kv = [], EMBED, 1, [1, 8, 8]
        for i in range(LAYERS):
            down = i in DOWNSCALE
            heads *= 2 if down else 1
            kv = [max(s // 2, 1) for s in kv] if down else kv
            out = dims * 2 if (down if v2 else i + 1 in DOWNSCALE) else dims
            settings.append(
                MSBlockConfig(
                    num_heads=heads,
                    input_channels=dims,
                    output_channels=out,
                    kernel_q=[3, 3, 3] if v2 or down else [],
                    kernel_kv=[3, 3, 3],
                    stride_q=[1, 2, 2] if down else ([1, 1, 1] if v2 else []),
                    stride_kv=kv,
                )
            )
            dims = out
        return settings

    v2 = MViT(
        spatial_size=(32, 32),
        temporal_size=4,
        block_setting=blocks(True),
        residual_pool=True,
        residual_with_cls_embed=False,
        rel_pos_embed=True,
        proj_after_attn=True,
        num_classes=NUM_CLASSES,
    )
    v1 = MViT(
        spatial_size=(32, 32),
        temporal_size=4,
        block_setting=blocks(False),
        residual_pool=False,
        residual_with_cls_embed=False,
        rel_pos_embed=False,
        proj_after_attn=False,
        num_classes=NUM_CLASSES,
    )
    save("torchvision_mvit_v2_tiny", v2, torch.Generator().manual_seed(2), {"": CLIP}, lambda m, x: m(x))
    save("torchvision_mvit_v1_tiny", v1, torch.Generator().manual_seed(3), {"": CLIP}, lambda m, x: m(x))
    write_keys("torchvision_mvit_v2_s", mvit_v2_s())
    write_keys("torchvision_mvit_v1_b", mvit_v1_b())


def pytorchvideo_models() -> None:
    from pytorchvideo.models.hub import mvit_base_16x4
    from pytorchvideo.models.vision_transformers import create_multiscale_vision_transformers

    model = create_multiscale_vision_transformers(
        spatial_size=32,
        temporal_size=4,
        depth=LAYERS,
        patch_embed_dim=EMBED,
        embed_dim_mul=[[i, 2.0] for i in DOWNSCALE],
        atten_head_mul=[[i, 2.0] for i in DOWNSCALE],
        pool_q_stride_size=[[i, 1, 2, 2] for i in DOWNSCALE],
        pool_kv_stride_adaptive=[1, 8, 8],
        pool_kvq_kernel=[3, 3, 3],
        head_num_classes=NUM_CLASSES,
    )
    save("pytorchvideo_mvit_v1_tiny", model, torch.Generator().manual_seed(4), {"": CLIP}, lambda m, x: m(x))
    write_keys("pytorchvideo_mvit_base_16x4", mvit_base_16x4())


def main() -> None:
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    mmaction2()
    torchvision_models()
    pytorchvideo_models()


if __name__ == "__main__":
    main()
