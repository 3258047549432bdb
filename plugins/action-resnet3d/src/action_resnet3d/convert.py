"""MMAction2 checkpoints (1.x and 0.x) onto recognizers built from this family.

Our backbones keep MMAction2's module names, so only the recognizer-level prefixes change:
``backbone.*`` stays, ``cls_head.fc_cls.*`` becomes ``head.fc_cls.*``. Every key no rule maps is reported.
Load with core's ``load_weights(model, checkpoint, converter="mmaction2_resnet3d")`` (or the family's
registered name, e.g. ``mmaction2_i3d``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.(.+)", r"backbone.\1"),
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)


def convert_mmaction2(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 recognizer checkpoint (loaded, or a file read with ``weights_only``) to our keys.

    Returns the converted state dict and the source keys no rule maps (to be reported, never dropped).
    """
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION2_RULES)


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    state, leftover = rename_keys(
        model.state_dict(),
        ((r"backbone\.(.+)", r"backbone.\1"), (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1")),
    )
    if leftover:
        raise ValueError(
            f"these keys have no MMAction2 name: {list(leftover)}; is this a 3D ResNet recognizer?"
        )
    return state
