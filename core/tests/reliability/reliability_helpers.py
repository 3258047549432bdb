"""A tiny real model plugin, a trained-here checkpoint and small real media: what the bad-input tests
drive ``action-run`` with."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "video" / "corpus"
CLASSES = ["walk", "run", "jump"]

PLUGIN_SOURCE = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"

@hookimpl
def action_register_models(register):
    register("rel_tiny3d", "fake_reltiny.models:TinyNet", summary="tiny 3D net for the bad-input tests")
"""

MODELS_SOURCE = """
import torch
from torch import nn

class TinyNet(nn.Module):
    input_format = "NCTHW"

    def __init__(self, *, num_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.head = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

    def loss(self, logits, target):
        return nn.functional.cross_entropy(logits, target)
"""

TEST_PIPELINE: list[dict[str, Any]] = [
    {"type": "SampleFrames", "clip_len": 4, "frame_interval": 1, "num_clips": 1, "test_mode": True},
    {"type": "DecodeFrames"},
    {"type": "Resize", "scale": [-1, 16]},
    {"type": "CenterCrop", "crop_size": 16},
    {"type": "FormatShape", "input_format": "NCTHW"},
]


def experiment(root: str = "") -> dict[str, Any]:
    """A complete experiment config of the tiny model over a ``video_list`` dataset under ``root``."""
    split = {"pipeline": TEST_PIPELINE}
    return {
        "model": {"type": "rel_tiny3d", "num_classes": len(CLASSES)},
        "data": {
            "dataset": "video_list",
            "root": root,
            "batch_size": 2,
            "workers": 0,
            "train": {"split": "train", "pipeline": TEST_PIPELINE},
            "val": {"split": "val", **split},
            "test": {"split": "test", **split},
        },
        "optim": {"type": "sgd", "lr": 0.01},
        "schedule": {"epochs": 1},
    }


def install_tiny_model(make_plugin) -> None:
    """Install the ``reltiny`` plugin (``make_plugin`` is core's conftest fixture)."""
    package = make_plugin("reltiny", PLUGIN_SOURCE)
    (package / "models.py").write_text(textwrap.dedent(MODELS_SOURCE))


def write_checkpoint(path: Path) -> Path:
    """A checkpoint as the trainer writes one: weights, classes and the config, loadable weights-only."""
    import torch

    from action_core.api import save_checkpoint
    from action_core.registry import import_target

    torch.manual_seed(0)
    model = import_target("fake_reltiny.models:TinyNet")(num_classes=len(CLASSES))
    meta = {"config": experiment(), "classes": CLASSES}
    return save_checkpoint({"model": model.state_dict(), "meta": meta}, path)


def corpus_copy(name: str, folder: Path) -> Path:
    """A copy of a corpus file, so a test can damage it."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(CORPUS / name, folder / name))
