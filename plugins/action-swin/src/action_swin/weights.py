"""``weights=`` of the video Swin builders: a published checkpoint (downloaded to the torch hub cache), a local file or
an already loaded mapping, converted by the converter its source needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, WeightsInfo

from .convert import load_mmaction2, load_torchvision

WeightsArg = WeightsInfo | str | Path | Mapping[str, Any] | None

LOADERS: dict[str, Callable[..., ConversionReport]] = {
    "mmaction2_swin": load_mmaction2,
    "torchvision_swin": load_torchvision,
}


def download(info: WeightsInfo, *, progress: bool = False) -> Path:
    """The checkpoint file of ``info`` in the torch hub cache, downloaded when missing."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    target = folder / info.url.rsplit("/", 1)[-1]
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(info.url, str(target), progress=progress)
    except Exception as e:  # network failures come as many exception types
        raise RuntimeError(
            f"could not download weights {info.name!r} from {info.url}: {e}. When offline, fetch the file "
            f"elsewhere and put it at {target}, or pass weights='/path/to/file.pth'."
        ) from e
    return target


def apply_weights(
    model: nn.Module,
    weights: WeightsArg,
    *,
    catalogue: Mapping[str, WeightsInfo],
    converter: str = "mmaction2_swin",
    progress: bool = False,
) -> ConversionReport | None:
    """Load ``weights`` into ``model`` strictly: a ``WeightsInfo`` or its name in ``catalogue`` (converted with
    its own converter), or a path / loaded mapping converted with ``converter``."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights in catalogue:
        weights = catalogue[weights]
    if isinstance(weights, WeightsInfo):
        converter, weights = weights.converter, download(weights, progress=progress)
    elif isinstance(weights, (str, Path)) and not Path(weights).is_file():
        known = ", ".join(sorted(catalogue)) or "none"
        raise FileNotFoundError(
            f"weights={str(weights)!r} is neither a file nor a known weights name (known: {known})"
        )
    if converter not in LOADERS:
        raise ValueError(f"unknown converter {converter!r}; choose one of {', '.join(sorted(LOADERS))}")
    report = LOADERS[converter](model, weights)
    model.weights_report = report
    return report
