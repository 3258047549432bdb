"""Write the MMAction2 reference fixture for action-trn's parity tests (run by hand, never by pytest).

Run with a Python that has MMAction2 1.2.0 installed (never a project dependency):

    python plugins/action-trn/tools/make_mmaction2_fixtures.py

For each case it builds MMAction2's TRN recognizer from its bundled config
(``trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb``: ResNet-50 with ``partial_bn``, multi-scale
``TRNHead``), optionally narrowed (ResNet-18, small ``hidden_dim``) or single-scale, fills every parameter
and BatchNorm statistic with deterministic random values (``tests/fixture_weights.py``, seeded by key name,
so only names and shapes are stored), and records on a fixed input:

- eval-mode logits, with the segment tuples MMAction2's head drew for that forward (``np.random.choice``
  results, recorded as they are made);
- a training step's ``loss_cls`` (partial BatchNorm active, dropout off) with its tuple draw, and the
  number of trainable parameters once ``train()`` has frozen the BatchNorms.

The result is ``tests/fixtures/mmaction2_trn.pt`` (tensors, lists and strings only).
"""

from __future__ import annotations

import copy
import os
import sys
import types
from pathlib import Path

import numpy as np
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
    / ".mim/configs/recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv1-rgb.py"
)
OUT = TESTS / "fixtures" / "mmaction2_trn.pt"
NUM_CLASSES = 7

# name -> (MMAction2 overrides: backbone, head; our trn_resnet arguments)
CASES = {
    "trn_r18_narrow": (
        dict(depth=18),
        dict(in_channels=512, hidden_dim=32),
        dict(depth=18, hidden_dim=32),
    ),
    "trn_r18_single_scale": (
        dict(depth=18),
        dict(in_channels=512, hidden_dim=32, relation_type="TRN"),
        dict(depth=18, hidden_dim=32, multi_scale=False),
    ),
    "trn_r50": (dict(), dict(), dict(depth=50)),
}


class RecordChoices:
    """Records ``np.random.choice`` results (the head's tuple draws) while active."""

    def __enter__(self) -> list[list[int]]:
        self.original = np.random.choice
        self.draws: list[list[int]] = []

        def choice(*args, **kwargs):
            out = self.original(*args, **kwargs)
            self.draws.append([int(i) for i in out])
            return out

        np.random.choice = choice
        return self.draws

    def __exit__(self, *exc) -> None:
        np.random.choice = self.original


def build(backbone: dict, head: dict) -> torch.nn.Module:
    cfg = copy.deepcopy(Config.fromfile(str(CONFIG)).model)
    cfg.backbone.pretrained = None
    cfg.backbone.update(backbone)
    cfg.cls_head.update(head, num_classes=NUM_CLASSES)
    return MODELS.build(cfg)


def main() -> None:
    torch.set_num_threads(1)
    register_all_modules()
    torch.manual_seed(0)
    np.random.seed(0)
    inputs = torch.randn(2, 8, 3, 32, 32)
    labels = torch.tensor([3, 5])
    cases = {}
    for name, (backbone, head, ours) in CASES.items():
        model = build(backbone, head)
        shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
        model.load_state_dict(fixture_state_dict(shapes), strict=True)
        num_params = sum(p.numel() for p in model.parameters())
        model.eval()
        with torch.no_grad(), RecordChoices() as eval_draws:
            logits, _ = model.extract_feat(inputs, stage="head", test_mode=True)

        model.train()  # partial_bn: every BatchNorm2d but the first to eval, its parameters frozen
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.eval()
        samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
        with torch.no_grad(), RecordChoices() as train_draws:
            losses = model.loss(inputs, samples)
        cases[name] = {
            "keys": list(shapes),
            "shapes": [shapes[k] for k in shapes],
            "kwargs": dict(ours, num_classes=NUM_CLASSES, num_segments=8),
            "num_params": num_params,
            "num_trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "logits": logits.clone(),
            "eval_relations": eval_draws,
            "loss_cls": losses["loss_cls"].detach().clone(),
            "train_relations": train_draws,
        }
        print(
            f"{name:22s} params={num_params:>11,d} trainable={cases[name]['num_trainable']:>11,d} "
            f"logits std={logits.std():.3f} loss_cls={float(losses['loss_cls']):.5f} draws={eval_draws}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"input": inputs, "labels": labels, "cases": cases, "mmaction": mmaction.__version__}, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
