"""PyTorchVideo / PySlowFast-style ``slow_r50`` state dicts onto ``slowonly_r50`` (the same network)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_converted, rename_keys

_B = r"blocks\.(?P<s>[1-4])\.res_blocks\.(?P<b>\d+)"
PYTORCHVIDEO_SLOW_RULES: tuple[tuple[str, str], ...] = (
    (r"blocks\.0\.conv\.(weight)", r"backbone.conv1.conv.\1"),
    (r"blocks\.0\.norm\.(\w+)", r"backbone.conv1.bn.\1"),
    (_B + r"\.branch1_conv\.(?P<p>weight)", r"backbone.layer\g<s>.\g<b>.downsample.conv.\g<p>"),
    (_B + r"\.branch1_norm\.(?P<p>\w+)", r"backbone.layer\g<s>.\g<b>.downsample.bn.\g<p>"),
    (_B + r"\.branch2\.conv_a\.(?P<p>weight)", r"backbone.layer\g<s>.\g<b>.conv1.conv.\g<p>"),
    (_B + r"\.branch2\.norm_a\.(?P<p>\w+)", r"backbone.layer\g<s>.\g<b>.conv1.bn.\g<p>"),
    (_B + r"\.branch2\.conv_b\.(?P<p>weight)", r"backbone.layer\g<s>.\g<b>.conv2.conv.\g<p>"),
    (_B + r"\.branch2\.norm_b\.(?P<p>\w+)", r"backbone.layer\g<s>.\g<b>.conv2.bn.\g<p>"),
    (_B + r"\.branch2\.conv_c\.(?P<p>weight)", r"backbone.layer\g<s>.\g<b>.conv3.conv.\g<p>"),
    (_B + r"\.branch2\.norm_c\.(?P<p>\w+)", r"backbone.layer\g<s>.\g<b>.conv3.bn.\g<p>"),
    (r"blocks\.5\.proj\.(weight|bias)", r"head.fc_cls.\1"),
)


def convert_pytorchvideo_slow(
    checkpoint: Mapping[str, Any],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a PyTorchVideo ``slow_r50`` state dict to our keys; returns (state dict, keys no rule maps)."""
    inner = checkpoint.get("model_state", checkpoint)  # PySlowFast / hub files wrap the weights
    return rename_keys(extract_state_dict(inner), PYTORCHVIDEO_SLOW_RULES)


def load_pytorchvideo_slow(
    model: nn.Module, checkpoint: Mapping[str, Any], *, strict: bool = True
) -> ConversionReport:
    """Convert and load a PyTorchVideo ``slow_r50`` state dict into a model built with ``slowonly_r50``."""
    state, unconverted = convert_pytorchvideo_slow(checkpoint)
    return load_converted(
        model, state, unconverted=unconverted, strict=strict, source="PyTorchVideo slow_r50"
    )
