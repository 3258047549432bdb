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

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

__all__ = ["MMACTION_TO_OURS", "OURS_TO_MMACTION", "from_mmaction", "to_mmaction"]

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


def from_mmaction(
    checkpoint: str | PathLike[str] | Mapping[str, object],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 TSN/TSM checkpoint (loaded, or a file read with ``weights_only``; 1.x or 0.x)
    to our key names.

    Returns the converted state dict and the MMAction2 keys no rule maps (to be reported, never dropped).
    TSM's ``.net`` wrapper segments are removed, since our temporal shift adds no module level. Load it with
    core's ``load_weights(model, checkpoint, converter="tsn_from_mmaction")``.
    """
    state = extract_state_dict(read_checkpoint(checkpoint))
    unwrapped = {_WRAPPER.sub("", k): v for k, v in state.items()}
    return rename_keys(unwrapped, MMACTION_TO_OURS)


def to_mmaction(model_or_state: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Export a TSN model (or its state dict) with MMAction2's key names; unknown keys are an error."""
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    out, unconverted = rename_keys(state, OURS_TO_MMACTION)
    if unconverted:
        raise ValueError(f"no MMAction2 name for these keys: {list(unconverted)[:10]}")
    return out
