"""Checkpoints of MMAction2 and torchvision video Swin Transformers onto this package's recognizers.

- MMAction2 1.x (and the original Video Swin release, same names) ``SwinTransformer3D`` + ``I3DHead``: our
  backbone keeps its module names; only the final norm (``norm3``, named after its output stage) becomes
  ``norm`` and ``cls_head`` becomes ``head``.
- torchvision ``swin3d_t`` / ``swin3d_s`` / ``swin3d_b``: ``features.{2i}`` are stage i's blocks and
  ``features.{2i+1}`` its patch merging; ``mlp.0/3`` are ``mlp.fc1/fc2``, ``head`` is ``head.fc_cls``.

Every source key is either converted or returned as unconverted, never dropped (core's converter contract; core's
``load_weights`` loads the result). The relative position index
buffers are converted too (they are constants both sides compute the same way; loading checks they agree in shape).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch

from action_core.api import extract_state_dict, read_checkpoint, rename_keys

Checkpoint = Mapping[str, Any] | str | os.PathLike[str]

_P = r"(?P<p>weight|bias)"

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (rf"backbone\.norm\d+\.{_P}", r"backbone.norm.\g<p>"),
    (r"backbone\.(?P<rest>.+)", r"backbone.\g<rest>"),
    (rf"cls_head\.fc_cls\.{_P}", r"head.fc_cls.\g<p>"),
)


def _torchvision_rules() -> tuple[tuple[str, str], ...]:
    rules = [(r"patch_embed\.(?P<rest>(?:proj|norm)\.(?:weight|bias))", r"backbone.patch_embed.\g<rest>")]
    for stage in range(4):
        blocks, target = rf"features\.{2 * stage}\.(?P<b>\d+)", rf"backbone.layers.{stage}.blocks.\g<b>"
        rules += [
            (rf"{blocks}\.mlp\.0\.{_P}", rf"{target}.mlp.fc1.\g<p>"),
            (rf"{blocks}\.mlp\.3\.{_P}", rf"{target}.mlp.fc2.\g<p>"),
            (rf"{blocks}\.(?P<rest>(?:norm[12]|attn)\..+)", rf"{target}.\g<rest>"),
            (
                rf"features\.{2 * stage + 1}\.(?P<rest>(?:reduction|norm)\.(?:weight|bias))",
                rf"backbone.layers.{stage}.downsample.\g<rest>",
            ),
        ]
    rules += [(rf"norm\.{_P}", r"backbone.norm.\g<p>"), (rf"head\.{_P}", r"head.fc_cls.\g<p>")]
    return tuple(rules)


#: torchvision numbers stages and patch mergings together: ``features.{2i}`` is stage i, ``features.{2i+1}`` the
#: merging after it.
TORCHVISION_RULES: tuple[tuple[str, str], ...] = _torchvision_rules()


def _state_dict(source: Checkpoint) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint given as a loaded mapping or a file (core's ``read_checkpoint``,
    ``weights_only=True``); ``state_dict`` / ``model`` wrappers and a DDP ``module.`` prefix are removed."""
    return extract_state_dict(read_checkpoint(source))


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """MMAction2 video Swin recognizer checkpoint -> our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(_state_dict(checkpoint), MMACTION2_RULES)


def convert_torchvision(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """torchvision ``swin3d_t/s/b`` state dict -> our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(_state_dict(checkpoint), TORCHVISION_RULES)
