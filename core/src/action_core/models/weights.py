"""Descriptions of pretrained weights, torchvision style: where they come from and what they score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

__all__ = ["WeightsInfo", "count_parameters", "mmaction2_weights"]


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


MMACTION2_DOWNLOADS = "https://download.openmmlab.com/mmaction/v1.0/recognition"


def mmaction2_weights(
    family: str,
    config: str,
    stamp: str,
    *,
    converter: str,
    dataset: str,
    metrics: Mapping[str, float],
    num_params: int,
    **builder_kwargs: Any,
) -> WeightsInfo:
    """A checkpoint of MMAction2 1.x's model zoo: ``config`` is its config name, ``stamp`` the file suffix
    (``"20220831-64d69186"``); ``builder_kwargs`` are our builder's arguments that reproduce its layout."""
    return WeightsInfo(
        name=config,
        url=f"{MMACTION2_DOWNLOADS}/{family}/{config}/{config}_{stamp}.pth",
        source="mmaction2",
        converter=converter,
        builder_kwargs=builder_kwargs,
        meta={
            "dataset": dataset,
            "num_params": num_params,
            "metrics": dict(metrics),
            "config": f"configs/recognition/{family}/{config}.py",
        },
    )


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
