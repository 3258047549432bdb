"""ImageNet initialisation of 2D backbones from torchvision's published weights.

The weights go in through core's ``load_weights`` (the torch hub cache first, downloaded only when missing,
always read with ``weights_only``); this module only says which file ``pretrained`` means and which
classifier keys the backbone leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.models import get_model_weights

from action_core.api import extract_state_dict, load_weights

__all__ = ["load_imagenet", "resolve_imagenet_weights"]


def resolve_imagenet_weights(arch: str, pretrained: bool | str) -> str | None:
    """The torchvision weights URL or local path meant by ``pretrained`` for ``arch``.

    ``True`` means ``IMAGENET1K_V1`` (what MMAction2's ``torchvision://resnet50`` is); a string is either a
    torchvision weights name (``"IMAGENET1K_V2"``) or a path to a local state-dict file; ``False`` is None.
    """
    if pretrained is False or pretrained is None:
        return None
    name = "IMAGENET1K_V1" if pretrained is True else str(pretrained)
    if os.sep in name or name.endswith((".pth", ".pt")):
        path = Path(name).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"ImageNet weights file {path} does not exist; pass an existing .pth path"
            )
        return str(path)
    try:
        return get_model_weights(arch)[name].url
    except KeyError as e:
        raise ValueError(
            f"unknown ImageNet weights {name!r} for {arch}; use True, a torchvision weights name "
            f"({', '.join(w.name for w in get_model_weights(arch))}) or a path to a .pth file"
        ) from e


def load_imagenet(backbone: nn.Module, arch: str, pretrained: bool | str, *, classifier: str = "fc.") -> None:
    """Initialise ``backbone`` (torchvision key names) from ImageNet weights of ``arch``.

    The classifier's keys (those starting with ``classifier``) are left out; any other mismatch is an error.
    """
    source = resolve_imagenet_weights(arch, pretrained)
    if source is None:
        raise ValueError("load_imagenet needs pretrained=True, a weights name or a path")

    def without_classifier(checkpoint: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
        state = extract_state_dict(checkpoint)
        return {k: v for k, v in state.items() if not k.startswith(classifier)}, ()

    load_weights(backbone, source, converter=without_classifier)
