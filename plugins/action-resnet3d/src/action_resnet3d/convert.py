"""MMAction2 checkpoints (1.x and 0.x) onto recognizers built from this family.

Our backbones keep MMAction2's module names, so only the recognizer-level prefixes change:
``backbone.*`` stays, ``cls_head.fc_cls.*`` becomes ``head.fc_cls.*``. Every key no rule maps is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.api import ConversionReport, extract_state_dict, load_converted, rename_keys

MMACTION2_RULES: tuple[tuple[str, str], ...] = (
    (r"backbone\.(.+)", r"backbone.\1"),
    (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1"),
)


def read_checkpoint(source: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    """A checkpoint given as a loaded mapping or as a file path (read with ``weights_only=True``)."""
    if isinstance(source, Mapping):
        return source
    try:
        return torch.load(Path(source), map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling failures come as many exception types
        raise RuntimeError(
            f"cannot read checkpoint {str(source)!r} safely: {e}. MMAction2 1.x files may hold training "
            "objects besides the weights; in an MMAction2 environment run "
            "torch.save(torch.load(path, weights_only=False)['state_dict'], 'weights.pth') and convert that."
        ) from e


def convert_mmaction2(
    checkpoint: Mapping[str, Any] | str | Path,
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename an MMAction2 recognizer checkpoint to our keys.

    Returns the converted state dict and the source keys no rule maps (to be reported, never dropped).
    """
    return rename_keys(extract_state_dict(read_checkpoint(checkpoint)), MMACTION2_RULES)


def load_mmaction2(
    model: nn.Module, checkpoint: Mapping[str, Any] | str | Path, *, strict: bool = True
) -> ConversionReport:
    """Convert an MMAction2 checkpoint and load it into ``model``; see ``load_converted`` for ``strict``."""
    state, unconverted = convert_mmaction2(checkpoint)
    source = checkpoint if isinstance(checkpoint, (str, Path)) else "MMAction2 checkpoint"
    return load_converted(model, state, unconverted=unconverted, strict=strict, source=str(source))


def export_mmaction2(model: nn.Module) -> dict[str, torch.Tensor]:
    """Our recognizer's state dict under MMAction2 key names (the inverse of ``convert_mmaction2``)."""
    state, leftover = rename_keys(
        model.state_dict(),
        ((r"backbone\.(.+)", r"backbone.\1"), (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1")),
    )
    if leftover:
        raise ValueError(
            f"these keys have no MMAction2 name: {list(leftover)}; is this a 3D ResNet recognizer?"
        )
    return state
