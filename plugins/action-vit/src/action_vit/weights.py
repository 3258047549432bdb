"""``weights=`` handling for the transformer families: a published checkpoint by name, a file or a mapping."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, WeightsInfo
from action_vit.convert import Converter, load_with

WeightsArg = WeightsInfo | str | Path | Mapping[str, Any] | None

__all__ = ["WeightsArg", "apply_weights"]


def _download(info: WeightsInfo, progress: bool) -> Path:
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
    convert: Converter,
    progress: bool = False,
) -> ConversionReport | None:
    """Load ``weights`` into ``model`` strictly through ``convert``: a ``WeightsInfo`` or its name in
    ``catalogue`` (downloaded to the torch hub cache), a checkpoint path, or a loaded checkpoint mapping.
    The report is kept as ``model.weights_report``."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights in catalogue:
        weights = catalogue[weights]
    if isinstance(weights, WeightsInfo):
        report = load_with(model, _download(weights, progress), convert, source=weights.url)
    elif isinstance(weights, (str, Path)):
        if not Path(weights).is_file():
            known = ", ".join(sorted(catalogue)) or "none"
            raise FileNotFoundError(
                f"weights={str(weights)!r} is neither a file nor a known weights name (known: {known})"
            )
        report = load_with(model, weights, convert)
    else:
        report = load_with(model, weights, convert, source="checkpoint mapping")
    model.weights_report = report
    return report
