"""PyTorchVideo / PySlowFast-style ``slowfast_r50`` state dicts onto ``slowfast_r50_8x8(lateral_norm=True)``.

PyTorchVideo's SlowFast-R50 is MMAction2's 8x8 network with BatchNorm + ReLU after each fusion convolution;
its head concatenates (slow, fast) where ours (like MMAction2) concatenates (fast, slow), so the classifier's
input columns are reordered. Its model takes ``[slow, fast]`` clips; ours takes one clip and samples both
pathways from it (every ``resample_rate``-th frame for the slow one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

_PATHS = (("0", "slow_path"), ("1", "fast_path"))
_BLOCK = (
    (r"branch1_conv\.(weight)", r"downsample.conv.\g<p>"),
    (r"branch1_norm\.(\w+)", r"downsample.bn.\g<p>"),
    (r"branch2\.conv_a\.(weight)", r"conv1.conv.\g<p>"),
    (r"branch2\.norm_a\.(\w+)", r"conv1.bn.\g<p>"),
    (r"branch2\.conv_b\.(weight)", r"conv2.conv.\g<p>"),
    (r"branch2\.norm_b\.(\w+)", r"conv2.bn.\g<p>"),
    (r"branch2\.conv_c\.(weight)", r"conv3.conv.\g<p>"),
    (r"branch2\.norm_c\.(\w+)", r"conv3.bn.\g<p>"),
)


def _rules() -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = []
    for index, path in _PATHS:
        rules.append(
            (
                rf"blocks\.0\.multipathway_blocks\.{index}\.conv\.(?P<p>weight)",
                rf"backbone.{path}.conv1.conv.\g<p>",
            )
        )
        rules.append(
            (
                rf"blocks\.0\.multipathway_blocks\.{index}\.norm\.(?P<p>\w+)",
                rf"backbone.{path}.conv1.bn.\g<p>",
            )
        )
        for source, target in _BLOCK:
            pattern = source.replace("(weight)", "(?P<p>weight)").replace(r"(\w+)", r"(?P<p>\w+)")
            rules.append(
                (
                    rf"blocks\.(?P<s>[1-4])\.multipathway_blocks\.{index}\.res_blocks\.(?P<b>\d+)\.{pattern}",
                    rf"backbone.{path}.layer\g<s>.\g<b>.{target}",
                )
            )
    for stage in range(4):
        lateral = "conv1_lateral" if stage == 0 else f"layer{stage}_lateral"
        prefix = rf"blocks\.{stage}\.multipathway_fusion"
        rules.append(
            (rf"{prefix}\.conv_fast_to_slow\.(?P<p>weight)", rf"backbone.slow_path.{lateral}.conv.\g<p>")
        )
        rules.append((rf"{prefix}\.norm\.(?P<p>\w+)", rf"backbone.slow_path.{lateral}.bn.\g<p>"))
    rules.append((r"blocks\.6\.proj\.(?P<p>weight|bias)", r"head.fc_cls.\g<p>"))
    return rules


PYTORCHVIDEO_SLOWFAST_RULES: tuple[tuple[str, str], ...] = tuple(_rules())


def _unwrap(checkpoint: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    loaded = read_checkpoint(checkpoint)
    # PySlowFast / PyTorchVideo hub files keep the weights under "model_state"
    return extract_state_dict(loaded.get("model_state", loaded))


def convert_pytorchvideo_slowfast(
    checkpoint: Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a PyTorchVideo ``slowfast_r50`` state dict (loaded, or a file read with ``weights_only``) to our
    keys; returns (state dict, keys no rule maps). Load with ``load_weights(model, state_dict,
    converter="pytorchvideo_slowfast")`` into ``slowfast_r50_8x8(lateral_norm=True)``.

    The classifier's columns are moved from (slow, fast) to (fast, slow) order.
    """
    state, unconverted = rename_keys(_unwrap(checkpoint), PYTORCHVIDEO_SLOWFAST_RULES)
    weight = state.get("head.fc_cls.weight")
    last_slow = [
        k for k in state if k.startswith("backbone.slow_path.layer4.") and k.endswith("conv3.conv.weight")
    ]
    if weight is not None and last_slow:
        slow_dim = state[max(last_slow)].shape[0]
        state["head.fc_cls.weight"] = torch.cat((weight[:, slow_dim:], weight[:, :slow_dim]), dim=1)
    return state, unconverted
