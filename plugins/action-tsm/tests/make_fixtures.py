"""Generate the MMAction2 reference fixture for test_mmaction_parity.py (NOT collected by pytest).

Run with the side venv that has MMAction2 1.2.0 installed:

    /work/side/models2d/bin/python plugins/action-tsm/tests/make_fixtures.py

For each case it builds MMAction2's recognizer from its shipped base config (shrunk: fewer classes, small
input), fills it with deterministic weights (tsm_fixture_weights), runs an eval forward and stores the key
names, shapes and logits. Weights are not stored: tests rebuild them from key names.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import torch
from mmaction.registry import MODELS
from mmaction.utils import register_all_modules
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from tsm_fixture_weights import fixture_state_dict  # noqa: E402

CONFIGS = Path(__import__("mmaction").__file__).parent / ".mim" / "configs" / "_base_" / "models"
OUT = Path(__file__).parent / "fixtures" / "mmaction_2d_logits.pt"
NUM_CLASSES = 7

# name -> (base config, backbone overrides, head overrides, our builder, our kwargs)
CASES = {
    "tsn_r18": ("tsn_r50.py", {"depth": 18}, {"in_channels": 512}, "tsn_r18", {}),
    "tsn_r50": ("tsn_r50.py", {}, {}, "tsn_r50", {}),
    "tsm_r18": ("tsm_r50.py", {"depth": 18}, {"in_channels": 512}, "tsm_r18", {}),
    "tsm_r50": ("tsm_r50.py", {}, {}, "tsm_r50", {}),
    "tsm_r101": ("tsm_r50.py", {"depth": 101}, {}, "tsm_r101", {}),
    "tsm_r18_temporal_pool": (
        "tsm_r50.py",
        {"depth": 18, "temporal_pool": True},
        {"in_channels": 512, "temporal_pool": True},
        "tsm_r18",
        {"temporal_pool": True},
    ),
    "tsm_r18_block": (
        "tsm_r50.py",
        {"depth": 18, "shift_place": "block", "shift_div": 4},
        {"in_channels": 512},
        "tsm_r18",
        {"shift_place": "block", "shift_div": 4},
    ),
    "tsm_mobilenetv2": ("tsm_mobilenet_v2.py", {}, {}, "tsm_mobilenetv2", {}),
}


def build_mmaction(base: str, backbone: dict, head: dict, num_segments: int) -> torch.nn.Module:
    cfg = Config.fromfile(str(CONFIGS / base))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pretrained = None
    model_cfg.backbone.update(backbone)
    if model_cfg.backbone.type != "ResNet":
        model_cfg.backbone.num_segments = num_segments
    model_cfg.cls_head.update(num_classes=NUM_CLASSES, **head)
    if model_cfg.cls_head.type == "TSMHead":
        model_cfg.cls_head.num_segments = num_segments
    return MODELS.build(model_cfg)


def main() -> None:
    register_all_modules()
    torch.manual_seed(0)
    num_segments = 8
    inputs = torch.randn(2, num_segments, 3, 32, 32)
    cases = {}
    for name, (base, backbone, head, builder, kwargs) in CASES.items():
        model = build_mmaction(base, backbone, head, num_segments)
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        model.load_state_dict(fixture_state_dict(shapes), strict=True)
        model.eval()
        with torch.no_grad():
            logits, _ = model.extract_feat(inputs, stage="head")
        params = sum(p.numel() for p in model.parameters())
        cases[name] = {
            "keys": list(shapes),
            "shapes": [shapes[k] for k in shapes],
            "logits": logits.clone(),
            "builder": builder,
            "kwargs": dict(kwargs, num_classes=NUM_CLASSES, num_segments=num_segments),
            "num_params": params,
        }
        print(f"{name:24s} params={params:>10,d} keys={len(shapes)} logits[0,:3]={logits[0, :3].tolist()}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"input": inputs, "cases": cases, "mmaction": __import__("mmaction").__version__}, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
