"""Write the TimeSformer reference fixtures for this plugin's parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 and transformers installed (a side environment, never a project
dependency):

    python plugins/action-timesformer/tools/make_reference_fixtures.py

For each reference it builds a *narrow* divided space-time TimeSformer with the same code paths as the
published ViT-B/16 (2 blocks, 32 channels, 4 heads, 4 frames of 32x32, 8x8 patches), gives every parameter
random values (also the zero-initialised ``temporal_fc``), and saves ``{"state_dict", "input", "logits"}``
(tensors only, eval mode, fp32) to ``tests/fixtures/``: MMAction2's ``TimeSformer`` + ``TimeSformerHead`` and
transformers' ``TimesformerForVideoClassification``. ``input`` is always (N, C, T, H, W); transformers is fed
its (N, T, C, H, W) permutation. It also writes the key names and shapes of the full-size models.
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
SHAPE = (2, 3, 4, 32, 32)


def mmaction2_models():
    # MMAction2 1.2.0's multimodal models import names that transformers 5 removed; the recognizers here do
    # not need them, so that subpackage is left out of the registration.
    sys.modules.setdefault("mmaction.models.multimodal", types.ModuleType("mmaction.models.multimodal"))
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules

    register_all_modules()
    return MODELS


def mmaction2_cfg(narrow: bool) -> dict:
    backbone = dict(
        type="TimeSformer",
        pretrained=None,
        num_frames=8,
        img_size=224,
        patch_size=16,
        embed_dims=768,
        attention_type="divided_space_time",
        norm_cfg=dict(type="LN", eps=1e-6),
    )
    if narrow:
        backbone.update(num_frames=4, img_size=32, patch_size=8, embed_dims=32, num_heads=4)
        backbone["num_transformer_layers"] = 2
    head = dict(
        type="TimeSformerHead",
        num_classes=NUM_CLASSES if narrow else 400,
        in_channels=backbone["embed_dims"],
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values in every parameter (also where the references initialise zeros or ones)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.ndim >= 2 and not name.endswith(("cls_token", "pos_embed", "time_embed", "embeddings")):
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=generator) / fan_in**0.5)
            elif "norm" in name and name.endswith("weight"):
                param.copy_(torch.rand(param.shape, generator=generator) * 0.5 + 0.75)
            elif param.ndim >= 2:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
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
    generator = torch.Generator().manual_seed(2300)
    model = models.build(mmaction2_cfg(narrow=True))
    randomize(model, generator)
    model.eval()
    x = torch.randn(SHAPE, generator=generator)
    with torch.no_grad():
        logits = model.cls_head(model.backbone(x))
    save("mmaction2_timesformer_divst_tiny", model.state_dict(), x, logits)
    write_keys("mmaction2_timesformer_divst", models.build(mmaction2_cfg(narrow=False)))


def make_transformers() -> None:
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    def config(**kw: object) -> TimesformerConfig:
        cfg = TimesformerConfig(attention_type="divided_space_time", **kw)
        cfg._attn_implementation = "eager"
        return cfg

    generator = torch.Generator().manual_seed(2310)
    model = TimesformerForVideoClassification(
        config(
            image_size=32,
            patch_size=8,
            num_frames=4,
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
    save("transformers_timesformer_tiny", model.state_dict(), x, logits)
    write_keys("transformers_timesformer_base", TimesformerForVideoClassification(config(num_labels=400)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make_mmaction2()
    make_transformers()
