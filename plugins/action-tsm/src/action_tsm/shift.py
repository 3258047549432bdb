"""The temporal shift operation of TSM (Lin et al., 2019) and a convolution that applies it first."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["TemporalShiftConv2d", "temporal_max_pool", "temporal_shift"]


def _shift(x: torch.Tensor, num_segments: int, shift_div: int, *, reverse: bool) -> torch.Tensor:
    """Shift without autograd bookkeeping: one output allocation, three block copies, two zero fills.

    The output keeps the input's memory format (splitting the outermost dimension is a view in both), so a
    ``channels_last`` network gets no layout conversion before its next convolution."""
    nt, c, h, w = x.shape
    fold = c // shift_div
    x = x.unflatten(0, (nt // num_segments, num_segments))
    out = torch.empty_like(x)
    # forward: channels [0, fold) take t + 1, [fold, 2 fold) take t - 1; reverse undoes it (the adjoint)
    up, down = (slice(1, None), slice(None, -1))
    first, second = (up, down) if not reverse else (down, up)
    out[:, second, :fold] = x[:, first, :fold]
    out[:, -1 if not reverse else 0, :fold] = 0
    out[:, first, fold : 2 * fold] = x[:, second, fold : 2 * fold]
    out[:, 0 if not reverse else -1, fold : 2 * fold] = 0
    out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
    return out.flatten(0, 1)


class _TemporalShift(torch.autograd.Function):
    # The gradient of a shift is the opposite shift; a custom Function avoids autograd recording every
    # slice copy (which costs a full-size gradient clone per copy in the backward pass).
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, num_segments: int, shift_div: int) -> torch.Tensor:
        ctx.num_segments, ctx.shift_div = num_segments, shift_div
        return _shift(x, num_segments, shift_div, reverse=False)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return _shift(grad, ctx.num_segments, ctx.shift_div, reverse=True), None, None


def temporal_shift(x: torch.Tensor, num_segments: int, shift_div: int = 8) -> torch.Tensor:
    """Shift a fraction of channels along time, for (N * num_segments, C, H, W) frame features.

    The first ``C // shift_div`` channels of segment t take the values of segment t + 1, the next
    ``C // shift_div`` take those of segment t - 1, the rest stay; vacated positions are zero
    (the same convention as the TSM paper and MMAction2).
    """
    nt = x.shape[0]
    if x.ndim != 4 or nt % num_segments:
        raise ValueError(
            f"temporal shift got input of shape {tuple(x.shape)}: expected (N * num_segments, C, H, W) "
            f"with num_segments={num_segments} frames per sample"
        )
    if torch.jit.is_tracing() or not (torch.is_grad_enabled() and x.requires_grad):
        # No gradient to route: plain tensor ops, which tracing and ONNX export can record.
        return _shift(x, num_segments, shift_div, reverse=False)
    return _TemporalShift.apply(x, num_segments, shift_div)


def temporal_max_pool(x: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Halve the segments of (N * num_segments, C, H, W) features with a size-3, stride-2 max pool in time."""
    nt, c, h, w = x.shape
    x = x.reshape(nt // num_segments, num_segments, c, h, w).transpose(1, 2)
    x = nn.functional.max_pool3d(x, kernel_size=(3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))
    return x.transpose(1, 2).reshape(-1, c, h, w)


class TemporalShiftConv2d(nn.Conv2d):
    """A ``Conv2d`` whose input is temporally shifted first; its parameters keep the plain conv's names."""

    def __init__(self, *args: object, num_segments: int = 8, shift_div: int = 8, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.num_segments = num_segments
        self.shift_div = shift_div

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, *, num_segments: int, shift_div: int) -> TemporalShiftConv2d:
        """A shifting copy of ``conv`` that shares its parameters."""
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            padding_mode=conv.padding_mode,
            num_segments=num_segments,
            shift_div=shift_div,
        )
        new.weight = conv.weight
        new.bias = conv.bias
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(temporal_shift(x, self.num_segments, self.shift_div))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, num_segments={self.num_segments}, shift_div={self.shift_div}"
