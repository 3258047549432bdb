"""MMAction2 CSN checkpoints onto ``ResNet3dCSN`` / ``ircsn_r152``.

MMAction2 keeps a bottleneck's channel-separated ``conv2`` as a list of conv units; ours is one unit whose
convolution is separated:

- ir-CSN: ``conv2.0.conv`` / ``conv2.0.bn`` -> ``conv2.conv`` / ``conv2.bn``;
- ip-CSN: ``conv2.0.conv`` -> ``conv2.conv.pointwise``, ``conv2.0.bn`` -> ``conv2.conv.norm``,
  ``conv2.1.conv`` -> ``conv2.conv.depthwise``, ``conv2.1.bn`` -> ``conv2.bn``.

Everything else keeps its name (``ResNet3d`` follows MMAction2), ``cls_head.fc_cls`` becomes ``head.fc_cls``.
The form is read from the checkpoint (ip-CSN files have ``conv2.1`` keys). Recognizer checkpoints and the
backbone-only files MMAction2's recipes start from (IG-65M, Sports-1M) both convert. Every source key is
either converted or reported; files are read with ``weights_only=True``.
"""

from __future__ import annotations

import re
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

_CONV2 = r"(?P<block>layer\d+\.\d+\.conv2)"
_IR = (
    (rf"{_CONV2}\.0\.conv\.weight", r"\g<block>.conv.weight"),
    (rf"{_CONV2}\.0\.bn\.(?P<p>\w+)", r"\g<block>.bn.\g<p>"),
)
_IP = (
    (rf"{_CONV2}\.0\.conv\.weight", r"\g<block>.conv.pointwise.weight"),
    (rf"{_CONV2}\.0\.bn\.(?P<p>\w+)", r"\g<block>.conv.norm.\g<p>"),
    (rf"{_CONV2}\.1\.conv\.weight", r"\g<block>.conv.depthwise.weight"),
    (rf"{_CONV2}\.1\.bn\.(?P<p>\w+)", r"\g<block>.bn.\g<p>"),
)
_IP_KEY = re.compile(r"(?:.*\.)?layer\d+\.\d+\.conv2\.1\.")


def _is_ip(state: Mapping[str, torch.Tensor]) -> bool:
    return any(_IP_KEY.match(key) for key in state)


def recognizer_rules(bottleneck_mode: str) -> tuple[tuple[str, str], ...]:
    """Rules from an MMAction2 CSN recognizer checkpoint to our ``ircsn_r152`` keys."""
    conv2 = _IP if bottleneck_mode == "ip" else _IR
    return (
        *((rf"backbone\.{pattern}", rf"backbone.{target}") for pattern, target in conv2),
        (r"backbone\.(.+)", r"backbone.\1"),
        (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
    )


def backbone_rules(bottleneck_mode: str) -> tuple[tuple[str, str], ...]:
    """Rules from a backbone-only MMAction2 CSN checkpoint (with or without ``backbone.``) to our backbone."""
    conv2 = _IP if bottleneck_mode == "ip" else _IR
    return (
        *((rf"(?:backbone\.)?{pattern}", target) for pattern, target in conv2),
        (r"(?:backbone\.)?((?:conv1|layer\d+)\..+)", r"\1"),
    )


def read_checkpoint(source: Checkpoint) -> Mapping[str, Any]:
    """A checkpoint given as a loaded mapping, or a file read safely (``weights_only=True``) by core."""
    if isinstance(source, Mapping):
        return source
    from action_core.api import load_checkpoint

    return load_checkpoint(source)


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 ir-/ip-CSN recognizer checkpoint to our keys; returns (state dict, keys no rule
    maps)."""
    state = extract_state_dict(read_checkpoint(checkpoint))
    return rename_keys(state, recognizer_rules("ip" if _is_ip(state) else "ir"))


def _source(checkpoint: Checkpoint, default: str) -> str:
    return str(checkpoint) if isinstance(checkpoint, (str, Path)) else default


def load_mmaction2(model: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Convert an MMAction2 CSN checkpoint and load it into ``model`` (see ``load_converted`` for ``strict``)."""
    state, unconverted = convert_mmaction2(checkpoint)
    return load_converted(
        model,
        state,
        unconverted=unconverted,
        strict=strict,
        source=_source(checkpoint, "MMAction2 checkpoint"),
    )


def load_backbone(backbone: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Load a backbone-only MMAction2 CSN checkpoint (e.g. the IG-65M ir-CSN-152) into a ``ResNet3dCSN``.

    With ``strict=False`` keys beyond the backbone (a pre-training classifier) are only reported, but every
    backbone tensor must still be there with its shape.
    """
    state = extract_state_dict(read_checkpoint(checkpoint))
    renamed, unconverted = rename_keys(state, backbone_rules("ip" if _is_ip(state) else "ir"))
    source = _source(checkpoint, "CSN backbone checkpoint")
    report = load_converted(backbone, renamed, unconverted=unconverted, strict=strict, source=source)
    if report.missing or report.shape_mismatch:
        raise CheckpointMismatchError(
            f"{source} does not hold the whole backbone: {report.summary()}", report
        )
    return report


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our CSN recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    ip = getattr(model.backbone, "bottleneck_mode", "ir") == "ip"
    conv2 = (
        (
            (r"(layer\d+\.\d+\.conv2)\.conv\.pointwise\.weight", r"\1.0.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.conv\.norm\.(\w+)", r"\1.0.bn.\2"),
            (r"(layer\d+\.\d+\.conv2)\.conv\.depthwise\.weight", r"\1.1.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.bn\.(\w+)", r"\1.1.bn.\2"),
        )
        if ip
        else (
            (r"(layer\d+\.\d+\.conv2)\.conv\.weight", r"\1.0.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.bn\.(\w+)", r"\1.0.bn.\2"),
        )
    )
    state, leftover = rename_keys(
        model.state_dict(),
        (
            *((rf"backbone\.{pattern}", rf"backbone.{target}") for pattern, target in conv2),
            (r"backbone\.(.+)", r"backbone.\1"),
            (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1"),
        ),
    )
    if leftover:
        raise ValueError(f"these keys have no MMAction2 name: {list(leftover)}; is this a CSN recognizer?")
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
