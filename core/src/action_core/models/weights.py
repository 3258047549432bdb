"""Descriptions of pretrained weights, torchvision style: where they come from and what they score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

__all__ = ["WeightsInfo", "count_parameters"]


@dataclass(frozen=True)
class WeightsInfo:
    """Metadata of a published checkpoint.

    ``url``: where the original file lives; ``source``: who published it (e.g. ``"mmaction2"``);
    ``converter``: registered converter name that maps it onto our model; ``meta``: free-form facts such
    as ``num_params``, ``metrics`` (as published), ``config`` and ``categories`` (dataset name).
    """

    name: str
    url: str
    source: str
    converter: str
    builder_kwargs: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
