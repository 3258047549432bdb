"""``weights=`` handling shared by the 3D families: published MMAction2 checkpoints or local files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, WeightsInfo
from action_resnet3d.convert import load_mmaction2

WeightsArg = WeightsInfo | str | Path | Mapping[str, Any] | None


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
    progress: bool = False,
) -> ConversionReport | None:
    """Load ``weights`` into ``model`` (strictly): a ``WeightsInfo`` or its name in ``catalogue`` (downloaded
    to the torch hub cache), a path to an MMAction2 checkpoint, or an already loaded checkpoint mapping."""
    if weights is None:
        return None
    if isinstance(weights, str) and weights in catalogue:
        weights = catalogue[weights]
    if isinstance(weights, WeightsInfo):
        report = load_mmaction2(model, _download(weights, progress))
    elif isinstance(weights, (str, Path)):
        path = Path(weights)
        if not path.is_file():
            known = ", ".join(sorted(catalogue)) or "none"
            raise FileNotFoundError(
                f"weights={str(weights)!r} is neither a file nor a known weights name (known: {known})"
            )
        report = load_mmaction2(model, path)
    else:
        report = load_mmaction2(model, weights)
    model.weights_report = report
    return report
