"""Fine-tuning: start from trained weights, re-initialise a head of another class count, freeze a part.

``action-run train ... --from SOURCE [--freeze backbone|stages<=N] [--lr-preset NAME]`` sets
``train.load_from`` / ``train.freeze`` and scales ``optim.lr``; the Trainer applies them through this module:

- :func:`load_initial_weights` loads ``SOURCE`` with :func:`action_core.api.load_weights` (a training
  checkpoint, a published checkpoint name, an MMAction2 / PyTorchVideo / torchvision file or URL through
  the registered converters) with ``reinit_mismatched_head=True``: head tensors whose shape differs (another
  class count) keep their fresh initialisation, and one log line lists them. Anything else that does not fit
  is an error naming the keys.
- :func:`freeze` sets ``requires_grad = False`` on the backbone, or on its stem and first N stages, and keeps
  those modules in eval mode while training (frozen batch-norm statistics, as MMAction2's ``frozen_stages``).
- :data:`LR_PRESETS`: learning rates for fine-tuning (``optim.backbone_lr_mult``; ``docs/own-videos.md``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from torch import nn

from action_core.errors import ConfigError

__all__ = ["LR_PRESETS", "Frozen", "freeze", "load_initial_weights", "lr_preset_for"]

logger = logging.getLogger("action_core.engine")

#: name -> (multiplier of the backbone's learning rate, when to use it); the head always learns at ``optim.lr``
LR_PRESETS: dict[str, tuple[float, str]] = {
    "finetune": (
        0.1,
        "the whole network from trained weights: the backbone at a tenth of the recipe's rate, the "
        "(re-initialised) head at the recipe's rate",
    ),
    "head": (1.0, "a frozen backbone (--freeze backbone): only the head learns, at the recipe's rate"),
    "recipe": (1.0, "the config's learning rates as they are (training from scratch or ImageNet weights)"),
}


def lr_preset_for(freeze_spec: str | None) -> str:
    """The learning-rate preset fine-tuning uses unless one is named: ``head`` for a frozen backbone,
    ``finetune`` otherwise."""
    return "head" if freeze_spec is not None and freeze_spec.strip() == "backbone" else "finetune"


class Frozen:
    """Modules whose parameters were frozen; :meth:`set_eval` keeps them in eval mode during training."""

    def __init__(self, spec: str, modules: list[tuple[str, nn.Module]]) -> None:
        self.spec = spec
        self.modules = modules

    @property
    def names(self) -> list[str]:
        """Dotted names of the frozen modules."""
        return [name for name, _ in self.modules]

    def set_eval(self) -> None:
        """Put the frozen modules (and their batch-norm statistics) in eval mode."""
        for _, module in self.modules:
            module.eval()


_LAYER = re.compile(r"^layer(\d+)$")


def _pathway_stages(module: nn.Module, prefix: str) -> tuple[list[tuple[str, nn.Module]], list[list[Any]]]:
    """(stem modules, stages) of a backbone (or one pathway of it), stages in order; empty when unknown."""
    children = list(module.named_children())
    layers = sorted(
        ((int(m.group(1)), name, child) for name, child in children if (m := _LAYER.match(name))),
        key=lambda t: t[0],
    )
    if layers:
        first = next(i for i, (name, _) in enumerate(children) if _LAYER.match(name))
        stem = [(prefix + n, c) for n, c in children[:first] if any(True for _ in c.parameters())]
        return stem, [[(prefix + name, child)] for _, name, child in layers]
    names = [n for n, _ in children]
    if "layers" in names and isinstance(module.layers, (nn.ModuleList, nn.Sequential)):
        first = names.index("layers")
        stem = [(prefix + n, c) for n, c in children[:first] if any(True for _ in c.parameters())]
        return stem, [[(f"{prefix}layers.{i}", stage)] for i, stage in enumerate(module.layers)]
    return [], []


def _stages(backbone: nn.Module) -> tuple[list[tuple[str, nn.Module]], list[list[Any]]]:
    stem, stages = _pathway_stages(backbone, "backbone.")
    if stages:
        return stem, stages
    # Pathways (SlowFast) or a wrapper around one network (TPN's stages): stage k of every pathway.
    found = [
        _pathway_stages(child, f"backbone.{name}.")
        for name, child in backbone.named_children()
        if any(True for _ in child.parameters())
    ]
    found = [f for f in found if f[1]]
    if not found or len({len(f[1]) for f in found}) != 1:
        return [], []
    stem = [m for f in found for m in f[0]]
    stages = [[m for f in found for m in f[1][k]] for k in range(len(found[0][1]))]
    return stem, stages


def freeze(model: nn.Module, spec: str) -> Frozen:
    """Freeze ``model.backbone`` (``"backbone"``) or its stem and first N stages (``"stages<=N"``)."""
    backbone = getattr(model, "backbone", None)
    if not isinstance(backbone, nn.Module):
        raise ConfigError(
            f"train.freeze = {spec!r}: {type(model).__name__} has no 'backbone' module to freeze"
        )
    text = spec.replace(" ", "")
    if text == "backbone":
        modules = [("backbone", backbone)]
    else:
        match = re.fullmatch(r"stages<=(\d+)", text)
        if match is None:
            raise ConfigError(f"train.freeze = {spec!r}: use 'backbone' or 'stages<=N'")
        stem, stages = _stages(backbone)
        if not stages:
            children = ", ".join(n for n, _ in backbone.named_children())
            raise ConfigError(
                f"train.freeze = {spec!r}: the {type(backbone).__name__} backbone has no stages this option "
                f"knows (children layer1..layerN, or a 'layers' list; it has {children}); use "
                "--freeze backbone"
            )
        n = int(match.group(1))
        if n > len(stages):
            raise ConfigError(
                f"train.freeze = {spec!r}: the {type(backbone).__name__} backbone has {len(stages)} stages"
            )
        modules = stem + [m for stage in stages[:n] for m in stage]
    for _, module in modules:
        for param in module.parameters():
            param.requires_grad_(False)
    frozen = Frozen(spec, modules)
    logger.warning("fine-tuning: frozen %s (%s)", spec, ", ".join(frozen.names))
    return frozen


def _listed(keys: Iterable[str]) -> str:
    return ", ".join(keys) or "none"


def load_initial_weights(model: nn.Module, source: str) -> Any:
    """Load ``source`` into ``model`` for fine-tuning (head of another shape re-initialised) and say in one
    log line what was re-initialised; returns the :class:`~action_core.models.checkpoints.ConversionReport`."""
    from action_core.models.loading import load_weights

    report = load_weights(model, source, reinit_mismatched_head=True)
    logger.warning(
        "fine-tuning from %s: loaded %d tensors; re-initialised (another shape in the checkpoint): %s",
        source,
        len(model.state_dict()) - len(report.reinitialised) - len(report.missing),
        _listed(report.reinitialised),
    )
    return report
