"""MMAction2 CSN checkpoints onto ``ResNet3dCSN`` / ``ircsn_r152``.

MMAction2 keeps a bottleneck's channel-separated ``conv2`` as a list of conv units; ours is one unit whose
convolution is separated:

- ir-CSN: ``conv2.0.conv`` / ``conv2.0.bn`` -> ``conv2.conv`` / ``conv2.bn``;
- ip-CSN: ``conv2.0.conv`` -> ``conv2.conv.pointwise``, ``conv2.0.bn`` -> ``conv2.conv.norm``,
  ``conv2.1.conv`` -> ``conv2.conv.depthwise``, ``conv2.1.bn`` -> ``conv2.bn``.

Everything else keeps its name (``ResNet3d`` follows MMAction2), ``cls_head.fc_cls`` becomes ``head.fc_cls``.
The form is read from the checkpoint (ip-CSN files have ``conv2.1`` keys). Recognizer checkpoints
(``convert_mmaction2``, registered as ``mmaction2_csn``) and the backbone-only files MMAction2's recipes start
from (IG-65M, Sports-1M; ``convert_mmaction2_backbone``, used by ``csn_backbone(pretrained=...)``) both
convert. Every source key is either converted or reported; files are read by core's ``read_checkpoint``
(``weights_only``). Load with ``load_weights(model, checkpoint, converter="mmaction2_csn")``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]

_CONV2 = r"(?P<block>layer\d+\.\d+\.conv2)"
_IR = (
    (rf"{_CONV2}\.0\.conv\.weight", r"\g<block>.conv.weight"),
    (rf"{_CONV2}\.0\.bn\.(?P<p>\w+)", r"\g<block>.bn.\g<p>"),
)
_IP = (
    (rf"{_CONV2}\.0\.conv\.weight", r"\g<block>.conv.pointwise.weight"),
    (rf"{_CONV2}\.0\.bn\.(?P<p>\w+)", r"\g<block>.conv.norm.\g<p>"),
    (rf"{_CONV2}\.1\.conv\.weight", r"\g<block>.conv.depthwise.weight"),
    (rf"{_CONV2}\.1\.bn\.(?P<p>\w+)", r"\g<block>.bn.\g<p>"),
)
_IP_KEY = re.compile(r"(?:.*\.)?layer\d+\.\d+\.conv2\.1\.")


def _is_ip(state: Mapping[str, torch.Tensor]) -> bool:
    return any(_IP_KEY.match(key) for key in state)


def recognizer_rules(bottleneck_mode: str) -> tuple[tuple[str, str], ...]:
    """Rules from an MMAction2 CSN recognizer checkpoint to our ``ircsn_r152`` keys."""
    conv2 = _IP if bottleneck_mode == "ip" else _IR
    return (
        *((rf"backbone\.{pattern}", rf"backbone.{target}") for pattern, target in conv2),
        (r"backbone\.(.+)", r"backbone.\1"),
        (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
    )


def backbone_rules(bottleneck_mode: str) -> tuple[tuple[str, str], ...]:
    """Rules from a backbone-only MMAction2 CSN checkpoint (with or without ``backbone.``) to our backbone."""
    conv2 = _IP if bottleneck_mode == "ip" else _IR
    return (
        *((rf"(?:backbone\.)?{pattern}", target) for pattern, target in conv2),
        (r"(?:backbone\.)?((?:conv1|layer\d+)\..+)", r"\1"),
    )


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 ir-/ip-CSN recognizer checkpoint to our keys; returns (state dict, keys no rule
    maps)."""
    state = extract_state_dict(read_checkpoint(checkpoint))
    return rename_keys(state, recognizer_rules("ip" if _is_ip(state) else "ir"))


def convert_mmaction2_backbone(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a backbone-only MMAction2 CSN checkpoint (e.g. the IG-65M ir-CSN-152) to ``ResNet3dCSN`` keys;
    keys beyond the backbone (a pre-training classifier) are returned as unconverted."""
    state = extract_state_dict(read_checkpoint(checkpoint))
    return rename_keys(state, backbone_rules("ip" if _is_ip(state) else "ir"))


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our CSN recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    ip = getattr(model.backbone, "bottleneck_mode", "ir") == "ip"
    conv2 = (
        (
            (r"(layer\d+\.\d+\.conv2)\.conv\.pointwise\.weight", r"\1.0.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.conv\.norm\.(\w+)", r"\1.0.bn.\2"),
            (r"(layer\d+\.\d+\.conv2)\.conv\.depthwise\.weight", r"\1.1.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.bn\.(\w+)", r"\1.1.bn.\2"),
        )
        if ip
        else (
            (r"(layer\d+\.\d+\.conv2)\.conv\.weight", r"\1.0.conv.weight"),
            (r"(layer\d+\.\d+\.conv2)\.bn\.(\w+)", r"\1.0.bn.\2"),
        )
    )
    state, leftover = rename_keys(
        model.state_dict(),
        (
            *((rf"backbone\.{pattern}", rf"backbone.{target}") for pattern, target in conv2),
            (r"backbone\.(.+)", r"backbone.\1"),
            (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1"),
        ),
    )
    if leftover:
        raise ValueError(f"these keys have no MMAction2 name: {list(leftover)}; is this a CSN recognizer?")
    return state
