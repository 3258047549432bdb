"""MMAction2 and PyTorchVideo X3D checkpoints onto ``x3d_s`` / ``x3d_m``.

MMAction2 (1.x and 0.x): our backbone keeps its module names; ``cls_head.fc1`` becomes ``head.fc1`` and
``cls_head.fc2`` becomes ``head.fc_cls``.

PyTorchVideo (``pytorchvideo.models.hub.x3d_s`` / ``x3d_m``, ``create_x3d``): the stem's ``conv_t`` holds the
*spatial* 1x3x3 kernel and ``conv_xy`` the temporal one (PyTorchVideo's names are swapped); its head's
``pre_conv``/``pre_norm`` are our ``backbone.conv5``, its ``post_conv`` (a 1x1x1 convolution) is ``head.fc1``,
its ``proj`` is ``head.fc_cls``. Its stage-1 shortcut has no BatchNorm: load into a model built with
``strided_shortcut_norm=False``.

Every source key is either converted or reported; checkpoint files are read with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, WeightsInfo, extract_state_dict, load_converted, rename_keys

Checkpoint = Mapping[str, Any] | str | Path

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.(.+)", r"backbone.\1"),
    (r"cls_head\.fc1\.(weight|bias)", r"head.fc1.\1"),
    (r"cls_head\.fc2\.(weight|bias)", r"head.fc_cls.\1"),
)

_PV_BLOCK = r"blocks\.(?P<s>[1-9]\d*)\.res_blocks\.(?P<b>\d+)"
_PV_LAYER = r"backbone.layer\g<s>.\g<b>"
PYTORCHVIDEO_RULES: tuple[tuple[str, str], ...] = (
    (r"blocks\.0\.conv\.conv_t\.weight", "backbone.conv1_s.conv.weight"),
    (r"blocks\.0\.conv\.conv_xy\.weight", "backbone.conv1_t.conv.weight"),
    (r"blocks\.0\.norm\.(\w+)", r"backbone.conv1_t.bn.\1"),
    (rf"{_PV_BLOCK}\.branch1_conv\.weight", rf"{_PV_LAYER}.downsample.conv.weight"),
    (rf"{_PV_BLOCK}\.branch1_norm\.(?P<p>\w+)", rf"{_PV_LAYER}.downsample.bn.\g<p>"),
    (rf"{_PV_BLOCK}\.branch2\.conv_a\.weight", rf"{_PV_LAYER}.conv1.conv.weight"),
    (rf"{_PV_BLOCK}\.branch2\.norm_a\.(?P<p>\w+)", rf"{_PV_LAYER}.conv1.bn.\g<p>"),
    (rf"{_PV_BLOCK}\.branch2\.conv_b\.weight", rf"{_PV_LAYER}.conv2.conv.weight"),
    (rf"{_PV_BLOCK}\.branch2\.norm_b\.0\.(?P<p>\w+)", rf"{_PV_LAYER}.conv2.bn.\g<p>"),
    (rf"{_PV_BLOCK}\.branch2\.norm_b\.1\.block\.0\.(?P<p>weight|bias)", rf"{_PV_LAYER}.se_module.fc1.\g<p>"),
    (rf"{_PV_BLOCK}\.branch2\.norm_b\.1\.block\.2\.(?P<p>weight|bias)", rf"{_PV_LAYER}.se_module.fc2.\g<p>"),
    (rf"{_PV_BLOCK}\.branch2\.conv_c\.weight", rf"{_PV_LAYER}.conv3.conv.weight"),
    (rf"{_PV_BLOCK}\.branch2\.norm_c\.(?P<p>\w+)", rf"{_PV_LAYER}.conv3.bn.\g<p>"),
    (r"blocks\.\d+\.pool\.pre_conv\.weight", "backbone.conv5.conv.weight"),
    (r"blocks\.\d+\.pool\.pre_norm\.(\w+)", r"backbone.conv5.bn.\1"),
    (r"blocks\.\d+\.pool\.post_conv\.weight", "head.fc1.weight"),
    (r"blocks\.\d+\.proj\.(weight|bias)", r"head.fc_cls.\1"),
)


def read_checkpoint(source: Checkpoint) -> Mapping[str, Any]:
    """A checkpoint given as a loaded mapping, or a file read safely (``weights_only=True``) by core."""
    if isinstance(source, Mapping):
        return source
    from action_core.api import load_checkpoint

    return load_checkpoint(source)


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 X3D recognizer checkpoint to our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION2_RULES)


def convert_pytorchvideo(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a PyTorchVideo ``create_x3d`` state dict (bare or under ``model_state``) to our keys; the head's
    1x1x1 ``post_conv`` kernel becomes the ``fc1`` matrix. Returns (state dict, keys no rule maps)."""
    loaded = read_checkpoint(checkpoint)
    state, unconverted = rename_keys(
        extract_state_dict(loaded.get("model_state", loaded)), PYTORCHVIDEO_RULES
    )
    fc1 = state.get("head.fc1.weight")
    if fc1 is not None and fc1.ndim == 5:
        state["head.fc1.weight"] = fc1.flatten(1)
    return state, unconverted


def _source(checkpoint: Checkpoint, default: str) -> str:
    return str(checkpoint) if isinstance(checkpoint, (str, Path)) else default


def load_mmaction2(model: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Convert an MMAction2 X3D checkpoint and load it into ``model`` (see ``load_converted`` for ``strict``)."""
    state, unconverted = convert_mmaction2(checkpoint)
    return load_converted(
        model,
        state,
        unconverted=unconverted,
        strict=strict,
        source=_source(checkpoint, "MMAction2 checkpoint"),
    )


def load_pytorchvideo(model: nn.Module, checkpoint: Checkpoint, *, strict: bool = True) -> ConversionReport:
    """Convert a PyTorchVideo X3D state dict and load it into a model built with
    ``strided_shortcut_norm=False``."""
    state, unconverted = convert_pytorchvideo(checkpoint)
    return load_converted(
        model, state, unconverted=unconverted, strict=strict, source=_source(checkpoint, "PyTorchVideo X3D")
    )


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our X3D recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    state, leftover = rename_keys(
        model.state_dict(),
        (
            (r"backbone\.(.+)", r"backbone.\1"),
            (r"head\.fc1\.(weight|bias)", r"cls_head.fc1.\1"),
            (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc2.\1"),
        ),
    )
    if leftover:
        raise ValueError(f"these keys have no MMAction2 name: {list(leftover)}; is this an X3D recognizer?")
    return state


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
        weights = _download(weights, progress)
    elif isinstance(weights, (str, Path)) and not Path(weights).is_file():
        known = ", ".join(sorted(catalogue)) or "none"
        raise FileNotFoundError(
            f"weights={str(weights)!r} is neither a file nor a known weights name (known: {known})"
        )
    report = load_mmaction2(model, weights)
    model.weights_report = report
    return report
