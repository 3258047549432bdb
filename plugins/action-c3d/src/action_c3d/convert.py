"""MMAction2 C3D checkpoints onto ``c3d``: recognizer checkpoints (``backbone.*`` kept, ``cls_head.fc_cls`` ->
``head.fc_cls``) and the Sports-1M backbone checkpoint MMAction2's recipe starts from (backbone-relative keys).

Every source key is either converted or reported; files are read with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import (
    CheckpointMismatchError,
    ConversionReport,
    WeightsInfo,
    extract_state_dict,
    load_converted,
    rename_keys,
)

Checkpoint = Mapping[str, Any] | str | Path

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.(.+)", r"backbone.\1"),
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)
# the Sports-1M file holds the backbone alone (MMAction2 loads it into the C3D module)
BACKBONE_RULES: tuple[tuple[str, str], ...] = (
    (r"(?:backbone\.)?(conv\d[ab]\.conv\.(?:weight|bias))", r"\1"),
    (r"(?:backbone\.)?(fc[67]\.(?:weight|bias))", r"\1"),
)
SPORTS1M_URL = (
    "https://download.openmmlab.com/mmaction/recognition/c3d/c3d_sports1m_pretrain_20201016-dcc47ddc.pth"
)


def read_checkpoint(source: Checkpoint) -> Mapping[str, Any]:
    """A checkpoint given as a loaded mapping, or a file read safely (``weights_only=True``) by core."""
    if isinstance(source, Mapping):
        return source
    from action_core.api import load_checkpoint

    return load_checkpoint(source)


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 C3D recognizer checkpoint to our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION2_RULES)


def _source(checkpoint: Checkpoint, default: str) -> str:
    return str(checkpoint) if isinstance(checkpoint, (str, Path)) else default


def load_mmaction2(model: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Convert an MMAction2 C3D checkpoint and load it into ``model`` (see ``load_converted`` for ``strict``)."""
    state, unconverted = convert_mmaction2(checkpoint)
    return load_converted(
        model,
        state,
        unconverted=unconverted,
        strict=strict,
        source=_source(checkpoint, "MMAction2 checkpoint"),
    )


def load_backbone(backbone: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Load a backbone-only C3D checkpoint (MMAction2's Sports-1M initialisation) into a ``C3D`` backbone.

    With ``strict=False`` keys beyond the backbone (the Sports-1M classifier) are only reported, but every
    backbone tensor must still be there with its shape.
    """
    state, unconverted = rename_keys(extract_state_dict(read_checkpoint(checkpoint)), BACKBONE_RULES)
    source = _source(checkpoint, "C3D backbone checkpoint")
    report = load_converted(backbone, state, unconverted=unconverted, strict=strict, source=source)
    if report.missing or report.shape_mismatch:
        raise CheckpointMismatchError(
            f"{source} does not hold the whole backbone: {report.summary()}", report
        )
    return report


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our C3D recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    state, leftover = rename_keys(
        model.state_dict(),
        ((r"backbone\.(.+)", r"backbone.\1"), (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1")),
    )
    if leftover:
        raise ValueError(f"these keys have no MMAction2 name: {list(leftover)}; is this a C3D recognizer?")
    return state


def download(url: str, name: str, progress: bool = False) -> Path:
    """A file from ``url`` in the torch hub cache (downloaded once); offline, say where to put it."""
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    target = folder / url.rsplit("/", 1)[-1]
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(target), progress=progress)
    except Exception as e:  # network failures come as many exception types
        raise RuntimeError(
            f"could not download {name} from {url}: {e}. When offline, fetch the file elsewhere and put it "
            f"at {target}, or pass a local path."
        ) from e
    return target


def apply_weights(
    model: nn.Module,
    weights: WeightsInfo | str | Path | Mapping[str, Any],
    *,
    catalogue: Mapping[str, WeightsInfo],
    progress: bool = False,
) -> ConversionReport:
    """Load MMAction2 ``weights`` into ``model`` strictly: a ``WeightsInfo`` or its name in ``catalogue``
    (downloaded to the torch hub cache), a path to a checkpoint, or an already loaded checkpoint mapping.
    The report is kept as ``model.weights_report``."""
    if isinstance(weights, str) and weights in catalogue:
        weights = catalogue[weights]
    if isinstance(weights, WeightsInfo):
        weights = download(weights.url, f"weights {weights.name!r}", progress)
    elif isinstance(weights, (str, Path)) and not Path(weights).is_file():
        known = ", ".join(sorted(catalogue)) or "none"
        raise FileNotFoundError(
            f"weights={str(weights)!r} is neither a file nor a known weights name (known: {known})"
        )
    report = load_mmaction2(model, weights)
    model.weights_report = report
    return report
