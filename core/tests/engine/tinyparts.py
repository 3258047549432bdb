"""A tiny real recognizer and a generated clip dataset with learnable structure, shared by the engine tests
and the scripts they run in subprocesses (torchrun, kill -9)."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import nn
from torch.utils.data import Dataset

from action_core.engine.schema import ExperimentConfig

NUM_CLASSES = 4

# A plugin module registering the tiny parts (installed by the `make_plugin` fixture as "fake_<name>").
PLUGIN_SOURCE = """
from action_core import hookimpl
ACTION_PLUGIN_API = "1.0"
SEEN = []

@hookimpl
def action_register_models(register):
    register("tiny3d", "tinyparts:TinyRecognizer3D", summary="tiny 3D recognizer")

@hookimpl
def action_register_datasets(register):
    register("tiny", "tinyparts:build_tiny_dataset", summary="generated clips")

@hookimpl
def action_on_train_start(run):
    SEEN.append(("start", run.cfg.model.type))

@hookimpl
def action_on_epoch_end(run, epoch, metrics):
    SEEN.append(("epoch", epoch, round(metrics["val/top1"], 6)))

@hookimpl
def action_on_train_end(run, metrics):
    SEEN.append(("end", run.iteration))
"""


class TinyRecognizer3D(nn.Module):
    """Conv3d → BN → ReLU → global pool → dropout → linear; one NCTHW view per sample."""

    input_format = "NCTHW"

    def __init__(self, *, num_classes: int = NUM_CLASSES, width: int = 8, dropout: float = 0.2) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv3d(3, width, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool3d((1, 2, 2)),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width * 4, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(logits, target)


class ClipDataset(Dataset):
    """``length`` clips (V, 3, T, H, W); class k brightens channel k % 3 in the top (k < 3) or bottom half.

    With ``augment`` fresh noise is drawn from torch's global RNG in every ``__getitem__`` (so exact
    reproducibility needs the RNG state restored on resume); without it each item's noise is fixed by its
    index (an evaluation set). ``nan_at`` (index) makes that item NaN.
    """

    classes = [f"class_{k}" for k in range(NUM_CLASSES)]
    multi_label = False

    def __init__(
        self,
        length: int,
        *,
        seed: int = 0,
        views: int = 1,
        frames: int = 4,
        size: int = 8,
        nan_at: int | None = None,
        noise: float = 0.6,
        augment: bool = True,
        layout: str = "NCTHW",
    ) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, NUM_CLASSES, (length,), generator=generator)
        self.base = torch.randn(length, 3, frames, size, size, generator=generator) * 0.3
        self.views, self.nan_at, self.noise, self.augment, self.seed = views, nan_at, noise, augment, seed
        self.layout = layout

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, Any]:
        label = int(self.labels[index])
        clip = self.base[index].clone()
        half = clip.shape[-2] // 2
        rows = slice(0, half) if label < 3 else slice(half, None)
        clip[label % 3, :, rows, :] += 1.0
        views = clip.unsqueeze(0).repeat(self.views, 1, 1, 1, 1)
        generator = None if self.augment else torch.Generator().manual_seed(self.seed * 100_003 + index)
        views = views + self.noise * torch.randn(views.shape, generator=generator)
        if self.nan_at is not None and index == self.nan_at:
            views[:] = float("nan")
        if self.layout == "NTCHW":  # what 2D recognizers take: (V, T, C, H, W)
            views = views.transpose(1, 2).contiguous()
        return {"inputs": views, "label": torch.tensor(label), "index": index}


def build_tiny_dataset(
    *, split: str, root: str, pipeline: list[dict[str, Any]], test_mode: bool, length: int = 32
) -> ClipDataset:
    """A registered-dataset-style builder (the signature core calls) over :class:`ClipDataset`."""
    seed = {"train": 1, "val": 2, "test": 3}[split]
    return ClipDataset(length, seed=seed, augment=not test_mode)


def tiny_config(**sections: dict[str, Any]) -> ExperimentConfig:
    """A valid experiment config for the tiny parts; ``sections`` update top-level tables."""
    data: dict[str, Any] = {
        "model": {"type": "tiny3d", "num_classes": NUM_CLASSES},
        "data": {"dataset": "tiny", "batch_size": 8, "workers": 0},
        "optim": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4},
        "schedule": {"epochs": 4, "policy": "cosine", "warmup_epochs": 0.5},
        "train": {"val_interval": 1, "log_interval": 1, "seed": 0, "best_metric": "top1"},
        "test": {"metrics": ["top1", "top5", "mean_class_accuracy"]},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return ExperimentConfig.from_dict(data)


def evolve_train(cfg: ExperimentConfig, **changes: Any) -> ExperimentConfig:
    """``cfg`` with ``[train]`` fields replaced."""
    return attrs.evolve(cfg, train=attrs.evolve(cfg.train, **changes))
