"""MMAction2 and PyTorchVideo X3D checkpoints onto ``x3d_s`` / ``x3d_m``.

MMAction2 (1.x and 0.x): our backbone keeps its module names; ``cls_head.fc1`` becomes ``head.fc1`` and
``cls_head.fc2`` becomes ``head.fc_cls``.

PyTorchVideo (``pytorchvideo.models.hub.x3d_s`` / ``x3d_m``, ``create_x3d``): the stem's ``conv_t`` holds the
*spatial* 1x3x3 kernel and ``conv_xy`` the temporal one (PyTorchVideo's names are swapped); its head's
``pre_conv``/``pre_norm`` are our ``backbone.conv5``, its ``post_conv`` (a 1x1x1 convolution) is ``head.fc1``,
its ``proj`` is ``head.fc_cls``. Its stage-1 shortcut has no BatchNorm: load into a model built with
``strided_shortcut_norm=False``.

Every source key is either converted or reported; checkpoint files are read by core's ``read_checkpoint``
(``weights_only``). Load with ``load_weights(model, checkpoint, converter="mmaction2_x3d")`` (or
``"pytorchvideo_x3d"``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]

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
