"""Checkpoint conversion between MMAction2 (0.x and 1.x) TSN and this package's TSN.

MMAction2 names a ResNet with ``ConvModule`` wrappers (``conv1.conv``, ``conv1.bn``, ``downsample.conv``);
ours uses torchvision's names (``conv1``, ``bn1``, ``downsample.0``). Heads are ``cls_head.fc_cls`` there
and ``head.fc_cls`` here. Both MMAction2 generations use the same key names; 0.x files just carry
``meta``/``optimizer`` beside ``state_dict``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from os import PathLike

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_converted, rename_keys

__all__ = [
    "MMACTION_TO_OURS",
    "OURS_TO_MMACTION",
    "from_mmaction",
    "is_mmaction_state_dict",
    "load_mmaction",
    "read_checkpoint",
    "to_mmaction",
]

_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
_BLOCK = r"backbone\.(layer\d+\.\d+)"

#: (MMAction2 regex, our replacement) for a 2D ResNet recognizer; first match wins.
MMACTION_TO_OURS: tuple[tuple[str, str], ...] = (
    (r"backbone\.conv1\.conv\.weight", r"backbone.conv1.weight"),
    (rf"backbone\.conv1\.bn\.{_BN}", r"backbone.bn1.\1"),
    (rf"{_BLOCK}\.conv(\d)\.conv\.weight", r"backbone.\1.conv\2.weight"),
    (rf"{_BLOCK}\.conv(\d)\.bn\.{_BN}", r"backbone.\1.bn\2.\3"),
    (rf"{_BLOCK}\.downsample\.conv\.weight", r"backbone.\1.downsample.0.weight"),
    (rf"{_BLOCK}\.downsample\.bn\.{_BN}", r"backbone.\1.downsample.1.\2"),
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)

#: The inverse mapping (our regex, MMAction2 replacement).
OURS_TO_MMACTION: tuple[tuple[str, str], ...] = (
    (r"backbone\.conv1\.weight", r"backbone.conv1.conv.weight"),
    (rf"backbone\.bn1\.{_BN}", r"backbone.conv1.bn.\1"),
    (rf"{_BLOCK}\.conv(\d)\.weight", r"backbone.\1.conv\2.conv.weight"),
    (rf"{_BLOCK}\.bn(\d)\.{_BN}", r"backbone.\1.conv\2.bn.\3"),
    (rf"{_BLOCK}\.downsample\.0\.weight", r"backbone.\1.downsample.conv.weight"),
    (rf"{_BLOCK}\.downsample\.1\.{_BN}", r"backbone.\1.downsample.bn.\2"),
    (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1"),
)

# MMAction2 wraps modules to add temporal shift / pooling; the wrapper adds ".net" to the key path.
_WRAPPER = re.compile(r"\.net(?=\.)")


def read_checkpoint(source: str | PathLike[str] | Mapping[str, object]) -> dict[str, torch.Tensor]:
    """A state dict from a checkpoint path or an already loaded checkpoint (``weights_only`` loading)."""
    if isinstance(source, Mapping):
        return extract_state_dict(source)
    try:
        obj = torch.load(source, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise ValueError(
            f"could not load checkpoint {source} safely: {e}. Only tensors and plain containers are "
            "unpickled (torch.load weights_only=True); checkpoints whose metadata holds other objects "
            "(some MMAction2 files do) must be re-saved as a bare state dict, in an environment you trust: "
            "python -c \"import torch; c = torch.load('IN.pth', weights_only=False); "
            "torch.save(c.get('state_dict', c), 'OUT.pth')\""
        ) from e
    return extract_state_dict(obj)


def is_mmaction_state_dict(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """True for MMAction2 key names (``cls_head.*`` or ``backbone.conv1.conv.*``)."""
    return any(k.startswith("cls_head.") or k.startswith("backbone.conv1.conv.") for k in state_dict)


def from_mmaction(
    checkpoint: Mapping[str, object],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 TSN/TSM checkpoint (1.x or 0.x) to our key names.

    Returns the converted state dict and the MMAction2 keys no rule maps (to be reported, never dropped).
    TSM's ``.net`` wrapper segments are removed, since our temporal shift adds no module level.
    """
    state = extract_state_dict(checkpoint)
    unwrapped = {_WRAPPER.sub("", k): v for k, v in state.items()}
    return rename_keys(unwrapped, MMACTION_TO_OURS)


def to_mmaction(model_or_state: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Export a TSN model (or its state dict) with MMAction2's key names; unknown keys are an error."""
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    out, unconverted = rename_keys(state, OURS_TO_MMACTION)
    if unconverted:
        raise ValueError(f"no MMAction2 name for these keys: {list(unconverted)[:10]}")
    return out


def load_mmaction(
    model: nn.Module,
    checkpoint: str | PathLike[str] | Mapping[str, object],
    *,
    strict: bool = True,
) -> ConversionReport:
    """Load an MMAction2 TSN checkpoint (path or loaded dict) into ``model``; returns the key report.

    With ``strict`` (default) any unconverted, missing, unexpected or mis-shaped key raises
    :class:`action_core.models.CheckpointMismatchError` before the model is modified.
    """
    state = read_checkpoint(checkpoint)
    converted, unconverted = from_mmaction(state)
    source = str(checkpoint) if not isinstance(checkpoint, Mapping) else "MMAction2 checkpoint"
    return load_converted(model, converted, unconverted=unconverted, strict=strict, source=source)
