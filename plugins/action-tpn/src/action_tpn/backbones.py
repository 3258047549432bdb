"""A TSM ResNet that returns several stages as clip tensors, the input a temporal pyramid neck needs.

Core's ``Recognizer2D`` folds the segments into the batch and hands the neck whatever the backbone returns.
TPN needs two stages (``layer3`` and ``layer4``) with the time axis back, (N, C, T, H, W): MMAction2's
``Recognizer2D`` does that reshape before its neck. Here the backbone does it, so the neck takes clip
tensors exactly as it would from a 3D backbone and core's recognizer needs no change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from action_tsm.backbones import ResNetTSM, resnet_tsm
from action_tsm.shift import temporal_max_pool, temporal_shift
from action_tsn.backbones import resnet_channels

__all__ = ["TSMStages", "resnet_tsm_stages", "stage_channels"]


def stage_channels(depth: int, out_indices: Sequence[int] = (2, 3)) -> tuple[int, ...]:
    """Channels of the stages ``out_indices`` (0 = layer1) of a ResNet-``depth``, without building it (what
    a neck on :class:`TSMStages` takes as ``in_channels``)."""
    return tuple(resnet_channels(depth) // 2 ** (3 - int(i)) for i in out_indices)


class TSMStages(nn.Module):
    """Runs a :class:`~action_tsm.backbones.ResNetTSM` and returns the stages ``out_indices`` (0 = layer1)
    as (N, C, T', H, W) tensors, T' being the segments each stage sees (halved after ``layer1`` with
    ``temporal_pool``). Stages after the last requested one are not run.

    Input (N * num_segments, 3, H, W), as the TSM backbone takes it. The wrapped backbone is ``body``, so
    its parameters are ``body.*`` (torchvision names below that).
    """

    def __init__(self, body: ResNetTSM, *, out_indices: Sequence[int] = (2, 3)) -> None:
        super().__init__()
        indices = tuple(int(i) for i in out_indices)
        if not indices or list(indices) != sorted(set(indices)) or not all(0 <= i <= 3 for i in indices):
            raise ValueError(
                f"out_indices must be increasing stage indices in 0..3, got {tuple(out_indices)!r}"
            )
        self.body = body
        self.out_indices = indices
        self.out_channels = stage_channels(body.depth, indices)
        self.num_segments = body.num_segments

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Stage outputs (N, C_i, T_i, H_i, W_i) of (N * num_segments, 3, H, W) frames."""
        body = self.body
        if x.ndim != 4 or x.shape[0] % body.num_segments:
            raise ValueError(
                f"{type(self).__name__} expects (N * num_segments, 3, H, W) frames with "
                f"num_segments={body.num_segments}, got shape {tuple(x.shape)}"
            )
        # The same steps as ResNetTSM.forward, keeping the requested stage outputs on the way.
        x = body.stem(x)
        shift_blocks = body.is_shift and body.shift_place == "block"
        outs = []
        for index, (stage, segs) in enumerate(zip(body.stages(), body.stage_segments, strict=True)):
            if index > self.out_indices[-1]:
                break
            if index == 1 and body.temporal_pool:
                x = temporal_max_pool(x, body.num_segments)
            if shift_blocks:
                for block in stage:
                    x = block(temporal_shift(x, segs, body.shift_div))
            else:
                x = stage(x)
            if index in self.out_indices:
                outs.append(x.reshape(-1, segs, *x.shape[1:]).transpose(1, 2))
        return tuple(outs)


def resnet_tsm_stages(*, out_indices: Sequence[int] = (2, 3), **kwargs: Any) -> TSMStages:
    """Keyword-only builder: :func:`action_tsm.backbones.resnet_tsm` (``depth``, ``num_segments``,
    ``pretrained``, ``shift_div``, ...) wrapped to return the stages ``out_indices`` as clip tensors."""
    return TSMStages(resnet_tsm(**kwargs), out_indices=out_indices)
