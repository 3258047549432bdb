"""ImageNet initialisation of 2D backbones from torchvision's published weights.

The file is looked up in the torch hub cache first (``$TORCH_HOME/hub/checkpoints``); only when it is not
there is it downloaded, and a failed download says what to do offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn
from torchvision.models import get_model_weights

__all__ = ["imagenet_state_dict", "resolve_imagenet_weights"]


def resolve_imagenet_weights(arch: str, pretrained: bool | str) -> str | None:
    """The torchvision weights file name or local path meant by ``pretrained`` for ``arch``.

    ``True`` means ``IMAGENET1K_V1`` (what MMAction2's ``torchvision://resnet50`` is); a string is either a
    torchvision weights name (``"IMAGENET1K_V2"``) or a path to a local state-dict file; ``False`` is None.
    """
    if pretrained is False or pretrained is None:
        return None
    name = "IMAGENET1K_V1" if pretrained is True else str(pretrained)
    if os.sep in name or name.endswith((".pth", ".pt")):
        return name
    try:
        return get_model_weights(arch)[name].url
    except KeyError as e:
        raise ValueError(
            f"unknown ImageNet weights {name!r} for {arch}; use True, a torchvision weights name "
            f"({', '.join(w.name for w in get_model_weights(arch))}) or a path to a .pth file"
        ) from e


def imagenet_state_dict(
    arch: str, pretrained: bool | str, *, progress: bool = False
) -> dict[str, torch.Tensor]:
    """Load torchvision ImageNet weights for ``arch`` from a local file, the hub cache, or the network."""
    source = resolve_imagenet_weights(arch, pretrained)
    if source is None:
        raise ValueError("imagenet_state_dict needs pretrained=True, a weights name or a path")
    if not source.startswith(("http://", "https://")):
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"ImageNet weights file {path} does not exist; pass an existing .pth path"
            )
        return torch.load(path, map_location="cpu", weights_only=True)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / source.rsplit("/", 1)[-1]
    if cached.is_file():
        return torch.load(cached, map_location="cpu", weights_only=True)
    try:
        return torch.hub.load_state_dict_from_url(source, map_location="cpu", progress=progress)
    except OSError as e:  # URLError and friends: offline, proxy, DNS
        raise RuntimeError(
            f"could not download ImageNet weights for {arch} from {source} ({e}). When offline, fetch the file "
            f"elsewhere and put it at {cached} (or pass pretrained='/path/to/file.pth'), or train from "
            "scratch with pretrained=False."
        ) from e


def load_imagenet(backbone: nn.Module, arch: str, pretrained: bool | str) -> None:
    """Initialise ``backbone`` (torchvision key names, no ``fc``) from ImageNet weights of ``arch``.

    The classifier weights are skipped; any other mismatch is an error.
    """
    state = {k: v for k, v in imagenet_state_dict(arch, pretrained).items() if not k.startswith("fc.")}
    result = backbone.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise RuntimeError(
            f"ImageNet weights for {arch} do not fit the backbone: missing {result.missing_keys[:5]}, "
            f"unexpected {result.unexpected_keys[:5]}"
        )
