"""torchvision ``r2plus1d_18`` / ``VideoResNet`` state dicts onto ``r2plus1d_18`` (MMAction2 checkpoints use
``action_resnet3d.convert``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_converted, rename_keys

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
    checkpoint: Mapping[str, Any],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a torchvision R(2+1)D state dict to our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(extract_state_dict(checkpoint), TORCHVISION_RULES)


def load_torchvision_r2plus1d(
    model: nn.Module, checkpoint: Mapping[str, Any], *, strict: bool = True
) -> ConversionReport:
    """Convert and load a torchvision R(2+1)D state dict into ``model`` (built by ``r2plus1d_18``)."""
    state, unconverted = convert_torchvision_r2plus1d(checkpoint)
    return load_converted(
        model, state, unconverted=unconverted, strict=strict, source="torchvision r2plus1d_18"
    )


def torchvision_weights_state_dict(name: str = "KINETICS400_V1") -> dict[str, torch.Tensor]:
    """torchvision's published ``r2plus1d_18`` weights by enum name (downloaded to the torch hub cache)."""
    from torchvision.models.video import R2Plus1D_18_Weights

    try:
        weights = R2Plus1D_18_Weights[name]
    except KeyError as e:
        known = ", ".join(w.name for w in R2Plus1D_18_Weights)
        raise ValueError(f"torchvision has no r2plus1d_18 weights {name!r}; known: {known}") from e
    try:
        return dict(weights.get_state_dict(progress=False))
    except Exception as e:  # network or cache failures come as many exception types
        raise RuntimeError(
            f"could not obtain torchvision's r2plus1d_18 {name} weights ({weights.url}): {e}. When offline, put "
            "the file in torch.hub.get_dir()/checkpoints or load it yourself and call load_torchvision_r2plus1d."
        ) from e
