"""Write MMAction2 reference fixtures for the 3D families' parity tests (run by hand, never by pytest).

Needs MMAction2 1.2.0 (a side environment, never a project dependency):

    $SIDE/bin/python plugins/action-resnet3d/tools/make_mmaction2_fixtures.py

For each variant it builds a narrow MMAction2 recognizer (small ``base_channels``; the same architecture code
paths as the published configs), gives every parameter and BatchNorm statistic random values, and saves
``{"state_dict", "input", "logits"}`` (tensors only, eval mode) to ``plugins/action-<family>/tests/fixtures/``.
The tests there convert the state dict with our converter, rebuild the same narrow model with our builders and
compare logits without MMAction2 installed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from torch import nn

ROOT = Path(__file__).resolve().parents[3]
I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_NON_LOCAL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))
NUM_CLASSES = 5


def i3d(non_local_mode: str | None = None) -> dict:
    backbone = dict(
        type="ResNet3d",
        depth=50,
        base_channels=4,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(5, 7, 7),
        conv1_stride_t=2,
        pool1_stride_t=2,
        inflate=I3D_INFLATE,
        zero_init_residual=False,
    )
    if non_local_mode:
        backbone.update(
            non_local=I3D_NON_LOCAL,
            non_local_cfg=dict(
                sub_sample=True,
                use_scale=False,
                norm_cfg=dict(type="BN3d", requires_grad=True),
                mode=non_local_mode,
            ),
        )
    head = dict(
        type="I3DHead", num_classes=NUM_CLASSES, in_channels=128, spatial_type="avg", dropout_ratio=0.5
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def slowonly() -> dict:
    backbone = dict(type="ResNet3dSlowOnly", depth=50, base_channels=4, pretrained=None)
    head = dict(
        type="I3DHead", num_classes=NUM_CLASSES, in_channels=128, spatial_type="avg", dropout_ratio=0.5
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def slowfast(resample_rate: int, speed_ratio: int, fusion_kernel: int) -> dict:
    backbone = dict(
        type="ResNet3dSlowFast",
        pretrained=None,
        resample_rate=resample_rate,
        speed_ratio=speed_ratio,
        channel_ratio=4,
        slow_pathway=dict(
            type="resnet3d",
            depth=50,
            base_channels=4,
            pretrained=None,
            lateral=True,
            fusion_kernel=fusion_kernel,
            conv1_kernel=(1, 7, 7),
            dilations=(1, 1, 1, 1),
            conv1_stride_t=1,
            pool1_stride_t=1,
            inflate=(0, 0, 1, 1),
        ),
        fast_pathway=dict(
            type="resnet3d",
            depth=50,
            base_channels=1,
            pretrained=None,
            lateral=False,
            conv1_kernel=(5, 7, 7),
            conv1_stride_t=1,
            pool1_stride_t=1,
        ),
    )
    head = dict(
        type="SlowFastHead", num_classes=NUM_CLASSES, in_channels=160, spatial_type="avg", dropout_ratio=0.5
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def r2plus1d() -> dict:
    backbone = dict(
        type="ResNet2Plus1d",
        depth=34,
        base_channels=2,
        pretrained=None,
        pretrained2d=False,
        conv_cfg=dict(type="Conv2plus1d"),
        norm_cfg=dict(type="BN3d", requires_grad=True, eps=1e-3),
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(1, 1, 1, 1),
        spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2),
        zero_init_residual=False,
    )
    head = dict(
        type="I3DHead", num_classes=NUM_CLASSES, in_channels=16, spatial_type="avg", dropout_ratio=0.5
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


def backbone_option(head_in: int, **options: object) -> dict:
    backbone = dict(type="ResNet3d", pretrained=None, pretrained2d=False, **options)
    head = dict(
        type="I3DHead", num_classes=NUM_CLASSES, in_channels=head_in, spatial_type="avg", dropout_ratio=0.5
    )
    return dict(type="Recognizer3D", backbone=backbone, cls_head=head)


# ResNet3d options the published configs do not use (the keys are the kwargs of our ResNet3d too)
OPTIONS = {
    "basic18_tstrides": dict(
        depth=18, base_channels=4, conv1_kernel=(3, 7, 7), temporal_strides=(1, 2, 1, 2)
    ),
    "caffe_3x3x3": dict(depth=50, base_channels=2, style="caffe", inflate_style="3x3x3"),
    "dilated": dict(
        depth=50, base_channels=2, dilations=(1, 1, 2, 2), spatial_strides=(1, 2, 1, 1), with_pool2=False
    ),
}

VARIANTS = {
    ("action-i3d", "i3d_r50_tiny"): (i3d(), (2, 3, 8, 32, 32)),
    ("action-i3d", "i3d_r50_nl_dot_product_tiny"): (i3d("dot_product"), (2, 3, 8, 32, 32)),
    ("action-i3d", "i3d_r50_nl_embedded_gaussian_tiny"): (i3d("embedded_gaussian"), (2, 3, 8, 32, 32)),
    ("action-slowonly", "slowonly_r50_tiny"): (slowonly(), (2, 3, 4, 32, 32)),
    ("action-slowfast", "slowfast_r50_4x16_tiny"): (slowfast(8, 4, 5), (1, 3, 16, 24, 24)),
    ("action-slowfast", "slowfast_r50_8x8_tiny"): (slowfast(4, 4, 7), (1, 3, 16, 24, 24)),
    ("action-r2plus1d", "r2plus1d_r34_tiny"): (r2plus1d(), (2, 3, 8, 32, 32)),
    **{
        ("action-resnet3d", f"resnet3d_{name}_tiny"): (
            backbone_option(options["base_channels"] * 8 * (4 if options["depth"] >= 50 else 1), **options),
            (1, 3, 8, 32, 32),
        )
        for name, options in OPTIONS.items()
    },
}


FULL_SIZE = {
    ("action-i3d", "i3d_r50"): {
        "type": "Recognizer3D",
        "backbone": dict(
            type="ResNet3d",
            depth=50,
            pretrained=None,
            pretrained2d=False,
            conv1_kernel=(5, 7, 7),
            conv1_stride_t=2,
            pool1_stride_t=2,
            inflate=I3D_INFLATE,
            zero_init_residual=False,
        ),
        "cls_head": dict(type="I3DHead", num_classes=400, in_channels=2048),
    },
    ("action-slowonly", "slowonly_r50"): {
        "type": "Recognizer3D",
        "backbone": dict(type="ResNet3dSlowOnly", depth=50, pretrained=None),
        "cls_head": dict(type="I3DHead", num_classes=400, in_channels=2048),
    },
    ("action-slowfast", "slowfast_r50_4x16"): {
        "type": "Recognizer3D",
        "backbone": dict(type="ResNet3dSlowFast", pretrained=None),
        "cls_head": dict(type="SlowFastHead", num_classes=400, in_channels=2304),
    },
    ("action-r2plus1d", "r2plus1d_r34"): {
        "type": "Recognizer3D",
        "backbone": dict(
            type="ResNet2Plus1d",
            depth=34,
            pretrained=None,
            pretrained2d=False,
            conv_cfg=dict(type="Conv2plus1d"),
            norm_cfg=dict(type="BN3d", eps=1e-3),
            conv1_kernel=(3, 7, 7),
            inflate=(1, 1, 1, 1),
            temporal_strides=(1, 2, 2, 2),
            zero_init_residual=False,
        ),
        "cls_head": dict(type="I3DHead", num_classes=400, in_channels=512),
    },
}


def write_key_shapes() -> None:
    """Key names and shapes of the full-size MMAction2 models (no tensors): pins the converters at full size."""
    for (plugin, name), cfg in FULL_SIZE.items():
        model = MODELS.build(copy.deepcopy(cfg))
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        out = ROOT / "plugins" / plugin / "tests" / "fixtures" / f"mmaction2_{name}_keys.json"
        out.write_text(json.dumps(shapes, indent=0) + "\n")
        print(f"{out.relative_to(ROOT)}: {len(shapes)} keys")


def randomize(model: nn.Module, generator: torch.Generator) -> None:
    """Random values everywhere (also where MMAction2 zero-initialises), so every path affects the logits."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv3d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (1.0 / fan_in) ** 0.5
                )
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) * 0.5 + 0.25)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                module.num_batches_tracked.fill_(7)
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.01)


def main() -> None:
    register_all_modules()
    write_key_shapes()
    for seed, ((plugin, name), (cfg, shape)) in enumerate(VARIANTS.items()):
        generator = torch.Generator().manual_seed(1000 + seed)
        model = MODELS.build(copy.deepcopy(cfg))
        randomize(model, generator)
        model.eval()
        x = torch.randn(shape, generator=generator)
        with torch.no_grad():
            logits = model.cls_head(model.backbone(x))
        state = {k: v.clone() for k, v in model.state_dict().items()}
        out = ROOT / "plugins" / plugin / "tests" / "fixtures" / f"mmaction2_{name}.pt"
        out.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": state, "input": x, "logits": logits}, out)
        params = sum(p.numel() for p in model.parameters())
        size = out.stat().st_size / 1e6
        print(
            f"{out.relative_to(ROOT)}: {params} params, {size:.2f} MB, |logits| <= {logits.abs().max():.3g}, std {logits.std():.3g}"
        )


if __name__ == "__main__":
    main()
