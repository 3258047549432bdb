"""torchvision ``r2plus1d_18`` / ``VideoResNet`` state dicts onto ``r2plus1d_18`` (MMAction2 checkpoints use
``action_resnet3d.convert``). Load with ``load_weights(model, checkpoint, converter="torchvision_r2plus1d")``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

_B = r"(layer\d+\.\d+)"
TORCHVISION_RULES: tuple[tuple[str, str], ...] = (
    (r"stem\.0\.(weight)", r"backbone.conv1.conv.conv_s.\1"),
    (r"stem\.1\.(\w+)", r"backbone.conv1.conv.bn_s.\1"),
    (r"stem\.3\.(weight)", r"backbone.conv1.conv.conv_t.\1"),
    (r"stem\.4\.(\w+)", r"backbone.conv1.bn.\1"),
    (_B + r"\.(conv\d)\.0\.0\.(weight)", r"backbone.\1.\2.conv.conv_s.\3"),
    (_B + r"\.(conv\d)\.0\.1\.(\w+)", r"backbone.\1.\2.conv.bn_s.\3"),
    (_B + r"\.(conv\d)\.0\.3\.(weight)", r"backbone.\1.\2.conv.conv_t.\3"),
    (_B + r"\.(conv\d)\.1\.(\w+)", r"backbone.\1.\2.bn.\3"),
    (_B + r"\.downsample\.0\.(weight)", r"backbone.\1.downsample.conv.\2"),
    (_B + r"\.downsample\.1\.(\w+)", r"backbone.\1.downsample.bn.\2"),
    (r"fc\.(weight|bias)", r"head.fc_cls.\1"),
)


def convert_torchvision_r2plus1d(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a torchvision R(2+1)D state dict (loaded, or a file read with ``weights_only``) to our keys;
    returns (state dict, keys no rule maps)."""
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), TORCHVISION_RULES)
