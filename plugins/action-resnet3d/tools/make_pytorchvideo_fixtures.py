"""Write PyTorchVideo reference fixtures for SlowFast-R50 / Slow-R50 parity tests (run by hand, never by pytest).

Needs pytorchvideo 0.1.5 in a side environment (never a project dependency):

    $SIDE/bin/python plugins/action-resnet3d/tools/make_pytorchvideo_fixtures.py

Builds narrow ``create_slowfast`` / ``create_resnet`` networks (the layouts of ``slowfast_r50`` / ``slow_r50``,
smaller widths, heads pooling the whole tiny feature map), randomises every parameter and BatchNorm statistic
and saves ``{"state_dict", "input", "logits"}`` (tensors only, eval mode). For SlowFast ``input`` is the fast
clip; the slow clip given to PyTorchVideo is every 4th frame of it, which is what our model samples itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from pytorchvideo.models.resnet import create_resnet
from pytorchvideo.models.slowfast import create_slowfast

ROOT = Path(__file__).resolve().parents[3]


def randomize(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Same scheme as the MMAction2 fixtures (kept in sync by hand: small module, no shared import)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (1.0 / fan_in) ** 0.5
                )
            elif isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.5 + 0.25)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
            elif isinstance(module, torch.nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.01)


def save(model: torch.nn.Module, x: torch.Tensor, inputs, plugin: str, name: str) -> None:
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
    out = ROOT / "plugins" / plugin / "tests" / "fixtures" / f"pytorchvideo_{name}.pt"
    torch.save({"state_dict": dict(model.state_dict()), "input": x, "logits": logits}, out)
    params = sum(p.numel() for p in model.parameters())
    print(
        f"{out.relative_to(ROOT)}: {params} params, {out.stat().st_size / 1e6:.2f} MB, std {logits.std():.3g}"
    )


def write_key_shapes() -> None:
    """Key names and shapes of the full-size hub models (no tensors): pins the converters at full size."""
    from pytorchvideo.models.hub import slow_r50, slowfast_r50

    for plugin, name, build in (
        ("action-slowfast", "slowfast_r50", slowfast_r50),
        ("action-slowonly", "slow_r50", slow_r50),
    ):
        shapes = {k: list(v.shape) for k, v in build(pretrained=False).state_dict().items()}
        out = ROOT / "plugins" / plugin / "tests" / "fixtures" / f"pytorchvideo_{name}_keys.json"
        out.write_text(json.dumps(shapes, indent=0) + "\n")
        print(f"{out.relative_to(ROOT)}: {len(shapes)} keys")


def main() -> None:
    write_key_shapes()
    generator = torch.Generator().manual_seed(2024)
    slowfast = create_slowfast(
        model_num_class=5,
        stem_dim_outs=(4, 1),
        slowfast_channel_reduction_ratio=(4,),
        head_pool_kernel_sizes=((2, 1, 1), (8, 1, 1)),
    )
    randomize(slowfast, generator)
    fast = torch.randn((1, 3, 8, 32, 32), generator=generator)
    save(slowfast, fast, [fast[:, :, ::4], fast], "action-slowfast", "slowfast_r50_tiny")

    slow = create_resnet(
        model_num_class=5, stem_dim_out=4, stem_conv_kernel_size=(1, 7, 7), head_pool_kernel_size=(4, 1, 1)
    )
    randomize(slow, generator)
    clip = torch.randn((2, 3, 4, 32, 32), generator=generator)
    save(slow, clip, clip, "action-slowonly", "slow_r50_tiny")


if __name__ == "__main__":
    main()
