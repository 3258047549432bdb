"""The 3D ResNet backbone shared by I3D, SlowOnly, SlowFast and R(2+1)D, with 2D->3D ImageNet inflation.

Importing the package is cheap (no torch): names load from their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BasicBlock3d": "action_resnet3d.resnet3d",
    "Bottleneck3d": "action_resnet3d.resnet3d",
    "ConvBNAct": "action_resnet3d.layers",
    "InflationReport": "action_resnet3d.inflate",
    "NonLocal3d": "action_resnet3d.layers",
    "ResNet3d": "action_resnet3d.resnet3d",
    "conv3d": "action_resnet3d.layers",
    "convert_mmaction2": "action_resnet3d.convert",
    "export_mmaction2": "action_resnet3d.convert",
    "feature_width": "action_resnet3d.resnet3d",
    "inflate_resnet2d_weights": "action_resnet3d.inflate",
    "load_resnet2d_state_dict": "action_resnet3d.inflate",
    "resnet3d_backbone": "action_resnet3d.resnet3d",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
