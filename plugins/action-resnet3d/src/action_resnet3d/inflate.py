"""2D -> 3D inflation of ImageNet ResNet weights (Carreira & Zisserman's I3D recipe).

A 2D kernel W (out, in, kh, kw) becomes W3 (out, in, kt, kh, kw) with W3[:, :, t] = W / kt for every t, so a clip
of identical frames gives the same response as the 2D network on one frame ("boring video" equivalence).
Input channels the 3D conv has beyond the 2D one (SlowFast lateral inputs) get zero weights. BatchNorm
parameters and statistics are copied as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from action_core.api import CheckpointError, extract_state_dict, read_checkpoint
from action_resnet3d.layers import ConvBNAct

TORCHVISION_RESNETS = {18: "resnet18", 34: "resnet34", 50: "resnet50", 101: "resnet101", 152: "resnet152"}


@dataclass(frozen=True)
class InflationReport:
    """What an inflation did: 3D parameters filled from 2D ones, 3D modules left as initialised (with the
    reason), and 2D keys nothing used."""

    inflated: tuple[str, ...]
    not_inflated: tuple[tuple[str, str], ...]
    unused_2d: tuple[str, ...]

    def summary(self) -> str:
        """One line per category, for logs."""
        skipped = ", ".join(f"{name} ({why})" for name, why in self.not_inflated) or "none"
        unused = ", ".join(self.unused_2d) or "none"
        return f"inflated {len(self.inflated)} tensors; not inflated: {skipped}; unused 2D keys: {unused}"


def _names_2d(module_name: str) -> tuple[str, str]:
    """torchvision names of the conv and norm behind one of our ``ConvBNAct`` units."""
    if module_name.endswith("downsample"):
        return f"{module_name}.0", f"{module_name}.1"
    if module_name == "conv1":
        return "conv1", "bn1"
    head, _, tail = module_name.rpartition(".")
    return module_name, f"{head}.{tail.replace('conv', 'bn')}"


def inflate_resnet2d_weights(
    backbone: nn.Module, state_dict_2d: Mapping[str, torch.Tensor]
) -> InflationReport:
    """Fill the convolutions and norms of a ``ResNet3d`` (or a SlowFast pathway) from a torchvision ResNet
    state dict, in place.

    Lateral connections, non-local blocks and any unit whose shape cannot be matched are left as they are and
    listed in the report; 2D keys that found no destination (e.g. ``fc.*``) are listed too.
    """
    used: set[str] = set()
    inflated: list[str] = []
    skipped: list[tuple[str, str]] = []
    for name, module in backbone.named_modules():
        if not isinstance(module, ConvBNAct) or "lateral" in name or "non_local" in name:
            continue
        if not isinstance(module.conv, nn.Conv3d):
            skipped.append((name, f"{type(module.conv).__name__} has no 2D counterpart"))
            continue
        conv_2d, norm_2d = _names_2d(name)
        weight_2d = state_dict_2d.get(f"{conv_2d}.weight")
        weight_3d = module.conv.weight
        if weight_2d is None:
            skipped.append((name, f"no '{conv_2d}.weight' in the 2D weights"))
            continue
        out_c, in_c, kt, kh, kw = weight_3d.shape
        if (weight_2d.shape[0], weight_2d.shape[2], weight_2d.shape[3]) != (out_c, kh, kw) or (
            weight_2d.shape[1] > in_c
        ):
            skipped.append(
                (name, f"2D shape {tuple(weight_2d.shape)} does not fit 3D {tuple(weight_3d.shape)}")
            )
            continue
        with torch.no_grad():
            padded = weight_3d.new_zeros(out_c, in_c, kh, kw)
            padded[:, : weight_2d.shape[1]] = weight_2d
            weight_3d.copy_(padded.unsqueeze(2).expand_as(weight_3d) / kt)
        used.add(f"{conv_2d}.weight")
        inflated.append(f"{name}.conv.weight")
        if module.bn is None:
            continue
        norm_keys = {key: f"{norm_2d}.{key}" for key, _ in module.bn.state_dict().items()}
        missing = [
            src for key, src in norm_keys.items() if src not in state_dict_2d and key != "num_batches_tracked"
        ]
        if missing:
            skipped.append((f"{name}.bn", f"2D weights lack {missing}"))
            continue
        bad = [
            src
            for key, src in norm_keys.items()
            if src in state_dict_2d and state_dict_2d[src].shape != getattr(module.bn, key).shape
        ]
        if bad:
            skipped.append((f"{name}.bn", f"2D shapes of {bad} do not fit"))
            continue
        with torch.no_grad():
            for key, src in norm_keys.items():
                if src in state_dict_2d:
                    getattr(module.bn, key).copy_(state_dict_2d[src])
                    used.add(src)
                    inflated.append(f"{name}.bn.{key}")
    unused = tuple(sorted(k for k in state_dict_2d if k not in used))
    return InflationReport(inflated=tuple(inflated), not_inflated=tuple(skipped), unused_2d=unused)


def load_resnet2d_state_dict(depth: int, source: bool | str | Path = True) -> dict[str, torch.Tensor]:
    """ImageNet weights of a 2D ResNet of ``depth``.

    ``source=True`` takes torchvision's ``IMAGENET1K_V1`` weights, a torchvision weights name (e.g.
    ``"IMAGENET1K_V2"``, which MMAction2's ImageNet-pretrained SlowOnly recipes use) those weights (both through
    torchvision's weights API: the torch hub cache, downloaded when missing); a path reads a local
    torchvision-format state dict with core's ``read_checkpoint`` (``weights_only``; a ``state_dict`` wrapper is
    unwrapped).
    """
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and source.startswith("IMAGENET1K_")):
        try:
            return extract_state_dict(read_checkpoint(source))
        except (CheckpointError, TypeError, ValueError) as e:
            raise CheckpointError(
                f"cannot read 2D ResNet weights from {str(source)!r}: {e}. Pass a torchvision ResNet state dict "
                "saved with torch.save, or pretrained=True to fetch torchvision's ImageNet weights."
            ) from e
    if depth not in TORCHVISION_RESNETS:
        raise ValueError(
            f"torchvision has no ImageNet ResNet of depth {depth}; use one of {sorted(TORCHVISION_RESNETS)}"
        )
    from torchvision.models import get_model_weights

    arch = TORCHVISION_RESNETS[depth]
    name = source if isinstance(source, str) else "IMAGENET1K_V1"
    try:
        weights = get_model_weights(arch)[name]
    except KeyError as e:
        known = ", ".join(w.name for w in get_model_weights(arch))
        raise ValueError(f"torchvision's {arch} has no weights {name!r}; known: {known}") from e
    try:
        return dict(weights.get_state_dict(progress=False))
    except Exception as e:  # network or cache failures come as many exception types
        raise RuntimeError(
            f"could not obtain torchvision's {arch} ImageNet weights ({weights.url}): {e}. When offline, download "
            "the file elsewhere and put it in the torch hub cache (torch.hub.get_dir()/checkpoints), pass its path "
            "as pretrained='/path/to/file.pth', or build with pretrained=False to train from scratch."
        ) from e
