"""MMAction2 C3D checkpoints onto ``c3d``: recognizer checkpoints (``convert_mmaction2``, registered as
``mmaction2_c3d``: ``backbone.*`` kept, ``cls_head.fc_cls`` -> ``head.fc_cls``) and the Sports-1M backbone
checkpoint MMAction2's recipe starts from (``convert_mmaction2_backbone``: backbone-relative keys, used by
``c3d_backbone(pretrained=...)``).

Every source key is either converted or reported; files are read by core's ``read_checkpoint``
(``weights_only``). Load with ``load_weights(model, checkpoint, converter="mmaction2_c3d")``.
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
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)
# the Sports-1M file holds the backbone alone (MMAction2 loads it into the C3D module)
BACKBONE_RULES: tuple[tuple[str, str], ...] = (
    (r"(?:backbone\.)?(conv\d[ab]\.conv\.(?:weight|bias))", r"\1"),
    (r"(?:backbone\.)?(fc[67]\.(?:weight|bias))", r"\1"),
)
SPORTS1M_URL = (
    "https://download.openmmlab.com/mmaction/recognition/c3d/c3d_sports1m_pretrain_20201016-dcc47ddc.pth"
)


def convert_mmaction2(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 C3D recognizer checkpoint to our keys; returns (state dict, keys no rule maps)."""
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION2_RULES)


def convert_mmaction2_backbone(checkpoint: Checkpoint) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename a backbone-only C3D checkpoint (MMAction2's Sports-1M initialisation, with or without the
    ``backbone.`` prefix) to ``C3D`` keys; keys beyond the backbone (the Sports-1M classifier) are returned as
    unconverted."""
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), BACKBONE_RULES)


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our C3D recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    state, leftover = rename_keys(
        model.state_dict(),
        ((r"backbone\.(.+)", r"backbone.\1"), (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1")),
    )
    if leftover:
        raise ValueError(f"these keys have no MMAction2 name: {list(leftover)}; is this a C3D recognizer?")
    return state
