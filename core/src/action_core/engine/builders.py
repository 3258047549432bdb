"""Turn an :class:`ExperimentConfig` into the objects a run needs: model, datasets, loaders, optimiser,
learning-rate schedule and metrics."""

from __future__ import annotations

import bisect
import inspect
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from action_core.engine.schema import ExperimentConfig, OptimConfig, ScheduleConfig, SplitConfig
from action_core.errors import ConfigError

__all__ = [
    "build_dataset_from_config",
    "build_metrics",
    "build_model_from_config",
    "build_optimizer",
    "build_scheduler",
    "lr_factor",
    "make_loader",
]

_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)


def build_model_from_config(cfg: ExperimentConfig, *, initial_weights: bool = True) -> nn.Module:
    """The model of ``[model]``: a registered model built with ``num_classes`` and ``args``, or a composite
    built from its ``backbone`` / ``neck`` / ``head`` tables (:func:`~action_core.models.compose.compose_model`).

    ``initial_weights=False`` builds it without loading what it would start from (``pretrained`` off,
    ``weights`` left out): for a model whose weights come from a checkpoint next, nothing is downloaded."""
    from action_core.models.compose import compose_model, without_downloads

    description = cfg.model.description()
    if not initial_weights:
        description = without_downloads(description)
    return compose_model(description, num_classes=cfg.model.num_classes)


def build_dataset_from_config(cfg: ExperimentConfig, which: str) -> Dataset:
    """The ``train`` / ``val`` / ``test`` dataset of ``cfg`` through the registered dataset builder."""
    import action_core

    split: SplitConfig = getattr(cfg.data, which)
    builder = action_core.get_registry().load("dataset", cfg.data.dataset)
    extra: dict[str, Any] = {}
    try:
        accepted: Mapping[str, inspect.Parameter] = inspect.signature(builder).parameters
    except (TypeError, ValueError):
        accepted = {}
    # Labels are checked against the model's classes, and training and validation rows must carry one.
    if "num_classes" in accepted and "num_classes" not in split.args:
        extra["num_classes"] = cfg.model.num_classes
    if "labelled" in accepted and "labelled" not in split.args and which in ("train", "val"):
        extra["labelled"] = True
    return action_core.build(
        "dataset",
        cfg.data.dataset,
        split=split.split,
        root=cfg.data.root,
        pipeline=[dict(step) for step in split.pipeline],
        test_mode=which != "train",
        **extra,
        **split.args,
    )


def _seed_worker(worker_id: int) -> None:
    # Give numpy and python's random in each worker a seed derived from torch's per-worker seed, so random
    # augmentations differ between workers and epochs but repeat exactly for the same run seed.
    import random

    import numpy as np

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(
    dataset: Dataset, sampler: Sampler[int], *, batch_size: int, workers: int, seed: int
) -> DataLoader:
    """A loader over ``sampler`` with its own generator (so it never draws from the global RNG), batching
    with the dataset's ``collate`` when it has one (items that do not stack, such as localization samples)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=getattr(dataset, "collate", None),
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=False,
        worker_init_fn=_seed_worker if workers > 0 else None,
        generator=torch.Generator().manual_seed(seed),
        persistent_workers=False,
    )


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """SGD (momentum), Adam (L2 decay, as MMAction2 trains BMN/BSN) or AdamW over the trainable parameters;
    with ``no_decay_norm_bias`` norm-layer parameters and biases get no decay, and ``backbone_lr_mult``
    scales the learning rate of ``model.backbone``'s parameters (their groups come after the others, so
    the first group's rate is ``lr``)."""
    backbone = getattr(model, "backbone", None)
    in_backbone = (
        {id(p) for p in backbone.parameters()}
        if isinstance(backbone, nn.Module) and cfg.backbone_lr_mult != 1.0
        else set()
    )
    buckets: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    seen: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            exempt = cfg.no_decay_norm_bias and (isinstance(module, _NORM_TYPES) or name == "bias")
            buckets.setdefault((id(param) in in_backbone, exempt), []).append(param)
    if not buckets:
        raise ConfigError("the model has no trainable parameters; nothing to optimise")
    groups = [
        {
            "params": buckets[key],
            "weight_decay": 0.0 if key[1] else cfg.weight_decay,
            "lr": cfg.lr * (cfg.backbone_lr_mult if key[0] else 1.0),
        }
        for key in ((False, False), (False, True), (True, False), (True, True))
        if buckets.get(key)
    ]
    if cfg.type == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.type == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def lr_factor(iteration: int, *, schedule: ScheduleConfig, base_lr: float, iters_per_epoch: int) -> float:
    """Multiplier of the base learning rate after ``iteration`` optimiser steps.

    ``step`` and ``multistep`` change the rate at epoch boundaries, ``cosine`` every iteration; during the
    first ``warmup_epochs`` the factor is further scaled by ``(iteration + 1) / warmup_iters``.
    """
    total = schedule.epochs * iters_per_epoch
    epoch = iteration // iters_per_epoch
    if schedule.policy == "step":
        factor = schedule.gamma ** (epoch // int(schedule.step_size or 1))
    elif schedule.policy == "multistep":
        factor = schedule.gamma ** bisect.bisect_right(schedule.milestones, epoch)
    else:
        floor = schedule.min_lr / base_lr
        progress = min(iteration / max(total, 1), 1.0)
        factor = floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    warmup_iters = round(schedule.warmup_epochs * iters_per_epoch)
    if iteration < warmup_iters:
        factor *= (iteration + 1) / warmup_iters
    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, schedule: ScheduleConfig, *, base_lr: float, iters_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-iteration :class:`LambdaLR` following :func:`lr_factor` (call ``step()`` after each update)."""

    def factor(iteration: int) -> float:
        return lr_factor(iteration, schedule=schedule, base_lr=base_lr, iters_per_epoch=iters_per_epoch)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


_TOPK = re.compile(r"^top(\d+)$")
_CORE_METRICS = {
    "mean_class_accuracy": "MeanClassAccuracy",
    "mAP": "MultiLabelMAP",
    "map": "MultiLabelMAP",
    "confusion_matrix": "ConfusionMatrix",
}


def build_metrics(names: Sequence[Any]) -> list[Any]:
    """Metric objects for names like ``top1``, ``top5``, ``mean_class_accuracy``, ``mAP`` or any metric a
    plugin registered (``action_core.build("metric", name)``); objects already built pass through."""
    from action_core.evaluation import metric as evaluation

    metrics: list[Any] = []
    topk: list[int] = []
    for name in names:
        if not isinstance(name, str):
            metrics.append(name)
        elif match := _TOPK.match(name):
            topk.append(int(match.group(1)))
        elif name in _CORE_METRICS:
            metrics.append(getattr(evaluation, _CORE_METRICS[name])())
        else:
            import action_core

            try:
                metrics.append(action_core.build("metric", name))
            except action_core.RegistryError as e:
                raise ConfigError(
                    f"unknown metric {name!r} in test.metrics; use top<k>, mean_class_accuracy, mAP, "
                    "confusion_matrix or a metric a plugin registers (`action-run list metrics`)"
                ) from e
    if topk:
        metrics.insert(0, evaluation.AccMetric(topk=tuple(sorted(set(topk)))))
    return metrics
