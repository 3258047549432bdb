"""Deterministic stand-in weights for MMAction2-named state dicts, shared by the fixture tool and the tests.

Every tensor is drawn from a generator seeded with the CRC32 of its key, so a state dict is rebuilt from key
names and shapes alone: a TSM ResNet cannot be made narrower (its widths are torchvision's), and its
weights would make the fixture tens of megabytes. BatchNorm statistics are random too.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import torch


def fixture_tensor(key: str, shape: Sequence[int]) -> torch.Tensor:
    """The deterministic value of parameter/buffer ``key`` with ``shape``."""
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return torch.tensor(0, dtype=torch.long)
    if leaf == "running_var" or (leaf == "weight" and len(shape) == 1):
        return 0.5 + torch.rand(tuple(shape), generator=gen)
    if leaf in ("bias", "running_mean"):
        return 0.1 * torch.randn(tuple(shape), generator=gen)
    fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
    return torch.randn(tuple(shape), generator=gen) * math.sqrt(1.0 / fan_in)


def fixture_state_dict(shapes: Mapping[str, Sequence[int]]) -> dict[str, torch.Tensor]:
    """A full state dict for ``{key: shape}``."""
    return {k: fixture_tensor(k, s) for k, s in shapes.items()}
