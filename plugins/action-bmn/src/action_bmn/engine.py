"""A small training / inference loop for localizers (core's Trainer is built around classification logits).

MMAction2's recipe: Adam with L2 weight decay, gradient clipping at an L2 norm of 40, learning rate
multiplied by ``gamma`` at each milestone epoch.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from action_activitynet.dataset import collate_localization
from action_bmn.localizer import BaseLocalizer
from action_core.api import average_recall_at_avg_proposals

__all__ = ["evaluate_proposals", "predict_localizer", "random_proposals", "seed_all", "train_localizer"]

log = logging.getLogger(__name__)


def seed_all(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def train_localizer(
    model: BaseLocalizer,
    dataset: Dataset,
    *,
    epochs: int,
    batch_size: int = 8,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    milestones: Sequence[int] = (),
    gamma: float = 0.1,
    grad_clip: float | None = 40.0,
    seed: int = 0,
    collate: Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]] = collate_localization,
    drop_last: bool = True,
    optimizer: str = "adam",
    momentum: float = 0.9,
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` with ``model.loss(batch)["loss"]``; returns the mean loss of every epoch.

    ``optimizer``: ``adam`` (MMAction2's choice for BSN/BMN, L2 weight decay), ``adamw`` or ``sgd``.

    A non-finite loss stops training with an error naming the epoch and step.
    """
    seed_all(seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        collate_fn=collate,
        drop_last=drop_last and len(dataset) >= batch_size,
        generator=gen,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        optim: torch.optim.Optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "adamw":
        optim = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        optim = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be adam, adamw or sgd; got {optimizer!r}")
    sched = torch.optim.lr_scheduler.MultiStepLR(optim, milestones=list(milestones), gamma=gamma)
    history = []
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for step, batch in enumerate(loader):
            loss = model.loss(batch)["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite loss {loss.item()} at epoch {epoch + 1}, step {step}; lower the learning rate "
                    f"or check the features for extreme values"
                )
            optim.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optim.step()
            total += float(loss.detach())
            count += 1
        sched.step()
        mean = total / max(count, 1)
        history.append(mean)
        log.info("epoch %d/%d loss %.4f", epoch + 1, epochs, mean)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, mean)
    return history


@torch.no_grad()
def predict_localizer(
    model: BaseLocalizer,
    dataset: Dataset,
    *,
    batch_size: int = 1,
    collate: Callable[[Sequence[Mapping[str, Any]]], Mapping[str, Any]] = collate_localization,
) -> dict[str, Any]:
    """``{video name: prediction}`` over the whole dataset (``model.predict`` per batch, eval mode)."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    out: dict[str, Any] = {}
    for batch in loader:
        for name, result in model.predict(batch):
            out[name] = result
    return out


def evaluate_proposals(
    ground_truth: Mapping[str, Any], proposals: Mapping[str, Any], *, max_avg_proposals: float = 100
) -> dict[str, float]:
    """AR@1, AR@5, AR@10, AR@100 and AUC (ActivityNet proposal task) of ``proposals`` against ``ground_truth``."""
    res = average_recall_at_avg_proposals(ground_truth, proposals, max_avg_proposals=max_avg_proposals)
    return res.as_dict((1, 5, 10, 100))


def random_proposals(
    durations: Mapping[str, float], *, per_video: int = 100, seed: int = 0
) -> dict[str, list[dict[str, Any]]]:
    """A baseline: ``per_video`` proposals per video with uniform random start/end and random scores."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, duration in durations.items():
        ends = np.sort(rng.uniform(0.0, duration, size=(per_video, 2)), axis=1)
        scores = rng.uniform(size=per_video)
        out[name] = [
            {"segment": [float(a), float(b)], "score": float(s)}
            for (a, b), s in zip(ends, scores, strict=True)
        ]
    return out
