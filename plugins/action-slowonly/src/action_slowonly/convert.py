"""PyTorchVideo / PySlowFast-style ``slow_r50`` state dicts onto ``slowonly_r50`` (the same network)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

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
    checkpoint: Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a PyTorchVideo ``slow_r50`` state dict (loaded, or a file read with ``weights_only``) to our keys;
    returns (state dict, keys no rule maps). Load with ``load_weights(model, checkpoint,
    converter="pytorchvideo_slow")``."""
    loaded = read_checkpoint(checkpoint)
    inner = loaded.get("model_state", loaded)  # PySlowFast / hub files wrap the weights
    return rename_keys(extract_state_dict(inner), PYTORCHVIDEO_SLOW_RULES)
