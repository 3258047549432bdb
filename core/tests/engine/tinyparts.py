"""A tiny real recognizer and a generated clip dataset with learnable structure, and a tiny localizer on
generated feature sequences, shared by the engine tests and the scripts they run in subprocesses (torchrun,
kill -9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from action_core.data.localization import LocalizationFeatureDataset, Segment, VideoInfo
from action_core.engine.schema import ExperimentConfig
from action_core.models.localizers import BaseLocalizer
from action_core.models.steps import float32_losses

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


class TinyLocalizer(BaseLocalizer):
    """Start and end probabilities per temporal position from one 1-D convolution; proposals pair every
    likely start with every later likely end (score = start x end probability)."""

    def __init__(self, *, feat_dim: int = 4, top_k: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv1d(feat_dim, 2, kernel_size=3, padding=1)
        self.top_k = top_k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x))  # (N, 2, T)

    def targets(self, gt_bbox: list[torch.Tensor], t: int) -> torch.Tensor:
        out = torch.zeros(len(gt_bbox), 2, t)
        for i, boxes in enumerate(gt_bbox):
            for k, column in enumerate((0, 1)):
                positions = (boxes[:, column] * t).clamp(0, t - 1).long()
                out[i, k, positions.cpu()] = 1.0
        return out

    def training_step(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        probs = self(batch["inputs"])
        target = self.targets(batch["gt_bbox"], probs.shape[-1]).to(probs.device)
        with float32_losses(probs.device):
            start = nn.functional.binary_cross_entropy(probs[:, 0].float(), target[:, 0])
            end = nn.functional.binary_cross_entropy(probs[:, 1].float(), target[:, 1])
        return {"loss": start + end, "start_loss": start, "end_loss": end}

    def predict_step(self, batch: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
        probs = self(batch["inputs"]).float().cpu()
        out = []
        t = probs.shape[-1]
        for i, name in enumerate(batch["video_name"]):
            span = float(batch["duration_second"][i]) * batch["feature_frame"][i] / batch["duration_frame"][i]
            starts = probs[i, 0].topk(self.top_k).indices.tolist()
            ends = probs[i, 1].topk(self.top_k).indices.tolist()
            proposals = [
                {
                    "segment": [s / t * span, (e + 1) / t * span],
                    "score": float(probs[i, 0, s] * probs[i, 1, e]),
                }
                for s in starts
                for e in ends
                if e >= s
            ]
            out.append((name, sorted(proposals, key=lambda p: -p["score"])))
        return out


def make_localization_dataset(
    root: Path, *, videos: int, seed: int, test_mode: bool, t: int = 16, feat_dim: int = 4
) -> LocalizationFeatureDataset:
    """``videos`` feature sequences (T x C .npy files under ``root``) with one planted segment each: rows
    inside it get +2 on channel 0, so its boundaries are learnable."""
    rng = np.random.default_rng(seed)
    infos = {}
    root.mkdir(parents=True, exist_ok=True)
    for v in range(videos):
        name = f"v_tiny{seed}_{v:02d}"
        a = int(rng.integers(1, t // 2))
        b = int(rng.integers(a + 2, t))
        x = rng.normal(size=(t, feat_dim)).astype(np.float32)
        x[a:b, 0] += 2.0
        np.save(root / f"{name}.npy", x)
        # 30 fps, 16-frame snippets: feature_frame = duration_frame, one snippet per feature row
        frames = t * 16
        infos[name] = VideoInfo(
            name, frames / 30.0, frames, frames, (Segment(a * 16 / 30.0, b * 16 / 30.0, "act"),)
        )
    return LocalizationFeatureDataset(infos, root, temporal_scale=t, feat_dim=feat_dim, test_mode=test_mode)


def tiny_localization_config(**sections: dict[str, Any]) -> ExperimentConfig:
    """A valid experiment config for :class:`TinyLocalizer` (datasets are passed to the Trainer)."""
    data: dict[str, Any] = {
        "model": {"type": "tiny_localizer", "num_classes": 1},
        "data": {"dataset": "tiny_localization", "batch_size": 4, "workers": 0},
        "optim": {"type": "adam", "lr": 0.01, "weight_decay": 1e-4, "grad_clip": 40.0},
        "schedule": {"epochs": 2, "milestones": [1]},
        "train": {"val_interval": 1, "log_interval": 1, "seed": 0, "best_metric": "AUC"},
        "test": {"metrics": ["activitynet_proposal"]},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return ExperimentConfig.from_dict(data)
