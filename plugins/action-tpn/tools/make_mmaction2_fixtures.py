"""Write the MMAction2 reference fixture for action-tpn's parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed (never a project dependency):

    python plugins/action-tpn/tools/make_mmaction2_fixtures.py

For each case it builds MMAction2's TPN-TSM recognizer from its bundled config
(``tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb``), optionally narrowed (ResNet-18 backbone,
narrow pyramid) or with the neck's other code paths switched on, fills every parameter and BatchNorm
statistic with deterministic random values (``tests/fixture_weights.py``, seeded by key name, so only
names and shapes are stored), and records on a fixed input:

- eval-mode logits through MMAction2's test path (``fcn_test``, as the config tests) and its plain path
  (the two agree; both are stored as one);
- a training step's ``loss_cls`` and ``loss_aux`` (dropout off, BatchNorm on batch statistics) for fixed
  labels, the auxiliary head's loss included.

The result is ``tests/fixtures/mmaction2_tpn.pt`` (tensors, lists and strings only).
"""

from __future__ import annotations

import copy
import os
import sys
import types
from pathlib import Path

import torch

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
# mmaction.models imports its multimodal models, which fail with recent `transformers` releases and are
# not needed here.
sys.modules.setdefault("mmaction.models.multimodal", types.ModuleType("mmaction.models.multimodal"))

import mmaction  # noqa: E402
from fixture_weights import fixture_state_dict  # noqa: E402
from mmaction.registry import MODELS  # noqa: E402
from mmaction.structures import ActionDataSample  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402

CONFIG = (
    Path(mmaction.__file__).parent
    / ".mim/configs/recognition/tpn/tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb.py"
)
OUT = TESTS / "fixtures" / "mmaction2_tpn.pt"
NUM_CLASSES = 7

# name -> (MMAction2 overrides: backbone, neck; our tpn_tsm_resnet arguments)
_NARROW_NECK = dict(
    in_channels=(256, 512),
    out_channels=64,
    spatial_modulation_cfg=dict(in_channels=(256, 512), out_channels=512),
    level_fusion_cfg=dict(
        in_channels=(64, 64),
        mid_channels=(64, 64),
        out_channels=128,
        downsample_scales=((1, 1, 1), (1, 1, 1)),
    ),
)
CASES = {
    "tpn_tsm_r18_narrow": (
        dict(depth=18),
        _NARROW_NECK,
        dict(depth=18, neck_args=dict(channels=64, fusion_channels=128)),
    ),
    "tpn_tsm_r18_parallel_rates": (
        dict(depth=18),
        dict(
            _NARROW_NECK,
            flow_type="parallel",
            temporal_modulation_cfg=dict(downsample_scales=(4, 8)),
            upsample_cfg=dict(scale_factor=(2, 1, 1)),
            downsample_cfg=dict(downsample_scale=(2, 1, 1)),
            level_fusion_cfg=dict(
                in_channels=(64, 64),
                mid_channels=(64, 64),
                out_channels=128,
                downsample_scales=((2, 1, 1), (1, 1, 1)),
            ),
        ),
        dict(
            depth=18,
            neck_args=dict(
                channels=64,
                fusion_channels=128,
                flow="parallel",
                temporal_scales=(4, 8),
                upsample_scale=(2, 1, 1),
                downsample_scale=(2, 1, 1),
                fusion_downsample_scales=((2, 1, 1), (1, 1, 1)),
            ),
        ),
    ),
    "tpn_tsm_r50": (dict(), dict(), dict(depth=50)),
}


def build(backbone: dict, neck: dict) -> torch.nn.Module:
    cfg = copy.deepcopy(Config.fromfile(str(CONFIG)).model)
    cfg.backbone.pretrained = None
    cfg.backbone.update(backbone)
    cfg.neck.update(neck)
    cfg.neck.aux_head_cfg.out_channels = NUM_CLASSES
    cfg.cls_head.num_classes = NUM_CLASSES
    return MODELS.build(cfg)


def without_dropout(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()


def main() -> None:
    torch.set_num_threads(1)
    register_all_modules()
    torch.manual_seed(0)
    inputs = torch.randn(2, 8, 3, 32, 32)
    labels = torch.tensor([3, 5])
    cases = {}
    for name, (backbone, neck, ours) in CASES.items():
        model = build(backbone, neck)
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        model.load_state_dict(fixture_state_dict(shapes), strict=True)
        num_params = sum(p.numel() for p in model.parameters())  # before fcn_test adds its conv copy
        model.eval()
        with torch.no_grad():
            logits, _ = model.extract_feat(inputs, stage="head", test_mode=True)  # fcn_test, as configured
            plain, _ = model.extract_feat(inputs, stage="head")
        assert torch.allclose(logits, plain, atol=1e-5), (logits - plain).abs().max()

        model.train()
        without_dropout(model)
        samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
        with torch.no_grad():
            losses = model.loss(inputs, samples)
        cases[name] = {
            "keys": list(shapes),
            "shapes": [shapes[k] for k in shapes],
            "kwargs": dict(ours, num_classes=NUM_CLASSES, num_segments=8),
            "num_params": num_params,
            "logits": logits.clone(),
            "loss_cls": losses["loss_cls"].detach().clone(),
            "loss_aux": losses["loss_aux"].detach().clone(),
        }
        print(
            f"{name:28s} params={cases[name]['num_params']:>11,d} logits std={logits.std():.3f} "
            f"loss_cls={float(losses['loss_cls']):.5f} loss_aux={float(losses['loss_aux']):.5f}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"input": inputs, "labels": labels, "cases": cases, "mmaction": mmaction.__version__}, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
