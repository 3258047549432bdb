"""Checkpoint conversion between MMAction2 (0.x and 1.x) TSM and this package's TSM.

MMAction2 inserts wrapper modules for the temporal shift (``conv1.conv.net``, or ``layerI.J.net`` with
``shift_place='block'``) and temporal pooling (``layer2.net``); ours adds none, so import strips ``.net``
and export puts it back where the model's configuration says MMAction2 has it. MobileNetV2 maps
MMAction2's ``layerI.J.conv.K`` / ``conv2`` to torchvision's ``features.N`` layout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from os import PathLike

import torch
from torch import nn

from action_core.api import extract_state_dict, read_checkpoint, rename_keys
from action_tsn import convert as tsn_convert

from .backbones import MobileNetV2TSM, ResNetTSM
from .shift import TemporalShiftConv2d

__all__ = ["from_mmaction", "to_mmaction"]

# (expand ratio, blocks) per MMAction2 MobileNetV2 stage layer1..layer7 (torchvision's table too).
_MBV2_STAGES = ((1, 1), (6, 2), (6, 3), (6, 4), (6, 3), (6, 3), (6, 1))
_PARAM = r"(weight|bias|running_mean|running_var|num_batches_tracked)"


def _mobilenet_pairs() -> list[tuple[str, str]]:
    """(MMAction2 module prefix, torchvision module prefix) for every conv and BN of MobileNetV2."""
    pairs = [("conv1.conv", "features.0.0"), ("conv1.bn", "features.0.1")]
    index = 1
    for stage, (expand, blocks) in enumerate(_MBV2_STAGES, start=1):
        for j in range(blocks):
            mm, tv = f"layer{stage}.{j}.conv", f"features.{index}.conv"
            n_cna = 2 if expand != 1 else 1  # conv-norm-act modules before the linear projection
            for k in range(n_cna):
                pairs += [(f"{mm}.{k}.conv", f"{tv}.{k}.0"), (f"{mm}.{k}.bn", f"{tv}.{k}.1")]
            pairs += [(f"{mm}.{n_cna}.conv", f"{tv}.{n_cna}"), (f"{mm}.{n_cna}.bn", f"{tv}.{n_cna + 1}")]
            index += 1
    pairs += [("conv2.conv", f"features.{index}.0"), ("conv2.bn", f"features.{index}.1")]
    return pairs


def _mobilenet_rules(to_ours: bool) -> list[tuple[str, str]]:
    rules = []
    for mm, tv in _mobilenet_pairs():
        src, dst = (mm, tv) if to_ours else (tv, mm)
        rules.append((rf"backbone\.{re.escape(src)}\.{_PARAM}", rf"backbone.{dst}.\1"))
    head = (r"cls_head\.fc_cls\.(weight|bias)", r"head.fc_cls.\1")
    rules.append(head if to_ours else (r"head\.fc_cls\.(weight|bias)", r"cls_head.fc_cls.\1"))
    return rules


def _is_mobilenet(state: Mapping[str, torch.Tensor]) -> bool:
    return any(k.startswith(("backbone.layer1.0.conv.0.", "backbone.features.")) for k in state)


def from_mmaction(
    checkpoint: str | PathLike[str] | Mapping[str, object],
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Convert an MMAction2 TSM checkpoint (ResNet or MobileNetV2 backbone; 1.x or 0.x; loaded, or a file
    read with ``weights_only``) to our names.

    Returns the converted state dict and the MMAction2 keys no rule maps. Load it with core's
    ``load_weights(model, checkpoint, converter="tsm_from_mmaction")``.
    """
    state = extract_state_dict(read_checkpoint(checkpoint))
    if not _is_mobilenet(state):
        return tsn_convert.from_mmaction(state)
    unwrapped = {re.sub(r"\.net(?=\.)", "", k): v for k, v in state.items()}
    return rename_keys(unwrapped, _mobilenet_rules(to_ours=True))


def _wrap_resnet_key(key: str, backbone: ResNetTSM) -> str:
    """Insert MMAction2's ``.net`` wrapper segments into an MMAction2-named ResNet-TSM key."""
    match = re.match(r"backbone\.layer(\d)\.(\d+)\.(.*)", key)
    if match is None:
        return key
    stage, block, rest = int(match[1]), int(match[2]), match[3]
    if backbone.is_shift and backbone.shift_place == "blockres":
        shifted = isinstance(backbone.stages()[stage - 1][block].conv1, TemporalShiftConv2d)
        if shifted and rest.startswith("conv1.conv."):
            rest = "conv1.conv.net." + rest[len("conv1.conv.") :]
    elif backbone.is_shift and backbone.shift_place == "block":
        rest = "net." + rest
    prefix = f"backbone.layer{stage}."
    if stage == 2 and backbone.temporal_pool:
        prefix += "net."
    return f"{prefix}{block}.{rest}"


def to_mmaction(model: nn.Module) -> dict[str, torch.Tensor]:
    """Export a TSM model with MMAction2 1.x key names (including its ``.net`` wrapper segments)."""
    backbone = model.backbone
    state = model.state_dict()
    if isinstance(backbone, MobileNetV2TSM):
        out, unconverted = rename_keys(state, _mobilenet_rules(to_ours=False))
        if unconverted:
            raise ValueError(f"no MMAction2 name for these keys: {list(unconverted)[:10]}")
        wrapped = {}
        for key, value in out.items():
            m = re.match(r"(backbone\.layer\d\.\d+)\.conv\.0\.((?:conv|bn)\..*)", key)
            block = _mm_block(backbone, key)
            if m is not None and block is not None and isinstance(block.conv[0][0], TemporalShiftConv2d):
                key = f"{m[1]}.conv.0.net.{m[2]}"
            wrapped[key] = value
        return wrapped
    if not isinstance(backbone, ResNetTSM):
        raise TypeError(f"to_mmaction expects a TSM model, got backbone {type(backbone).__name__}")
    plain = tsn_convert.to_mmaction(state)
    return {_wrap_resnet_key(k, backbone): v for k, v in plain.items()}


def _mm_block(backbone: MobileNetV2TSM, key: str) -> nn.Module | None:
    m = re.match(r"backbone\.layer(\d)\.(\d+)\.", key)
    if m is None:
        return None
    index = 1 + sum(blocks for _, blocks in _MBV2_STAGES[: int(m[1]) - 1]) + int(m[2])
    return backbone.features[index]
