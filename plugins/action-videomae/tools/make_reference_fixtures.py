"""Write the VideoMAE reference fixtures for this plugin's parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 and transformers installed (a side environment, never a project
dependency):

    python plugins/action-videomae/tools/make_reference_fixtures.py

For each reference it builds a *narrow* model with the same code paths as the published ViT-B/16 (2 blocks,
32 channels, 4 heads, 32x32 frames, 8x8 patches, 4 frames), gives every parameter random values, and saves
``{"state_dict", "input", "logits"}`` (tensors only, eval mode, fp32) to ``tests/fixtures/``: MMAction2's
``VisionTransformer`` + ``TimeSformerHead`` (the published form, and one with a learned position embedding,
LayerScale, no q/v bias and no mean pooling) and transformers' ``VideoMAEForVideoClassification`` (eager
attention). ``input`` is always (N, C, T, H, W); transformers is fed its (N, T, C, H, W) permutation.
It also writes the key names and shapes of the full-size models (``*_keys.json``).
"""

from __future__ import annotations

import copy
import json
import sys
import types
from pathlib import Path

import torch
from torch import nn

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
NUM_CLASSES = 5
NARROW = dict(img_size=32, patch_size=8, embed_dims=32, depth=2, num_heads=4, num_frames=4)
SHAPE = (2, 3, 4, 32, 32)


def mmaction2_models():
    # MMAction2 1.2.0's multimodal models import names that transformers 5 removed; the recognizers here do
    # not need them, so that subpackage is left out of the registration.
    sys.modules.setdefault("mmaction.models.multimodal", types.ModuleType("mmaction.models.multimodal"))
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules()
    return MODELS


def mmaction2_cfg(**backbone: object) -> dict:
    embed = int(backbone.get("embed_dims", 768))
    classes = 400 if embed == 768 else NUM_CLASSES
    backbone = dict(type="VisionTransformer", norm_cfg=dict(type="LN", eps=1e-6), **backbone)
    head = dict(type="TimeSformerHead", num_classes=classes, in_channels=embed)
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values in every parameter (also where the references initialise zeros or ones)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2 and "pos" not in name and "token" not in name:
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=generator) / fan_in**0.5)
            elif "norm" in name and name.endswith("weight"):
                param.copy_(torch.rand(param.shape, generator=generator) * 0.5 + 0.75)
            elif "gamma" in name:
                param.copy_(torch.rand(param.shape, generator=generator) * 0.5 + 0.5)
            else:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.1)


def save(name: str, state: dict, x: torch.Tensor, logits: torch.Tensor) -> None:
    out = FIXTURES / f"{name}.pt"
    state = {k: v.detach().clone().contiguous() for k, v in state.items()}
    torch.save({"state_dict": state, "input": x, "logits": logits}, out)
    print(f"{out.name}: {out.stat().st_size / 1e3:.0f} kB, std(logits) {logits.std():.3g}")


def write_keys(name: str, model: nn.Module) -> None:
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    out = FIXTURES / f"{name}_keys.json"
    out.write_text(json.dumps(shapes, indent=0) + "\n")
    print(f"{out.name}: {len(shapes)} keys, {sum(p.numel() for p in model.parameters())} parameters")


def make_mmaction2() -> None:
    models = mmaction2_models()
    variants = {
        "mmaction2_videomae_vit_tiny": dict(NARROW),
        "mmaction2_videomae_vit_options_tiny": dict(
            NARROW, use_learnable_pos_emb=True, init_values=0.1, qkv_bias=False, use_mean_pooling=False
        ),
    }
    for seed, (name, backbone) in enumerate(variants.items()):
        generator = torch.Generator().manual_seed(2200 + seed)
        model = models.build(mmaction2_cfg(**backbone))
        randomize(model, generator)
        model.eval()
        x = torch.randn(SHAPE, generator=generator)
        with torch.no_grad():
            logits = model.cls_head(model.backbone(x))
        save(name, model.state_dict(), x, logits)
    write_keys("mmaction2_videomae_vit_b16", models.build(copy.deepcopy(mmaction2_cfg())))


def make_transformers() -> None:
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    def config(**kw: object) -> VideoMAEConfig:
        cfg = VideoMAEConfig(**kw)
        cfg._attn_implementation = "eager"
        return cfg

    generator = torch.Generator().manual_seed(2210)
    model = VideoMAEForVideoClassification(
        config(
            image_size=32,
            patch_size=8,
            num_frames=4,
            tubelet_size=2,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            num_labels=NUM_CLASSES,
        )
    )
    randomize(model, generator)
    model.eval()
    x = torch.randn(SHAPE, generator=generator)
    with torch.no_grad():
        logits = model(pixel_values=x.permute(0, 2, 1, 3, 4)).logits
    save("transformers_videomae_tiny", model.state_dict(), x, logits)
    write_keys("transformers_videomae_base", VideoMAEForVideoClassification(config(num_labels=400)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make_mmaction2()
    make_transformers()
