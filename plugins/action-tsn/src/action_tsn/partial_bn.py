"""Partial BatchNorm (TSN's training trick, MMAction2's ``partial_bn=True``): every BatchNorm2d but the first
normalises with its running statistics in training too, never updates them, and its scale and shift are not
trained. Only the first BatchNorm (the stem's) adapts to the new data.

It is applied to a built backbone by swapping those layers for :class:`FixedBatchNorm2d`, which shares
their parameters and buffers, so parameter names and checkpoints are unchanged.
"""

from __future__ import annotations

from torch import nn

__all__ = ["FixedBatchNorm2d", "apply_partial_bn"]


class FixedBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm2d that stays in eval mode whatever ``train()`` is asked, with frozen affine parameters."""

    @classmethod
    def from_bn(cls, bn: nn.BatchNorm2d) -> FixedBatchNorm2d:
        """A fixed copy of ``bn`` sharing its parameters and statistics."""
        fixed = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine)
        fixed.weight, fixed.bias = bn.weight, bn.bias
        fixed.running_mean, fixed.running_var = bn.running_mean, bn.running_var
        fixed.num_batches_tracked = bn.num_batches_tracked
        for p in (fixed.weight, fixed.bias):
            if p is not None:
                p.requires_grad_(False)
        return fixed.train(False)

    def train(self, mode: bool = True) -> FixedBatchNorm2d:
        return super().train(False)


def apply_partial_bn(module: nn.Module) -> nn.Module:
    """Fix every BatchNorm2d of ``module`` except the first in module order (in place); returns ``module``."""
    norms = [name for name, m in module.named_modules() if isinstance(m, nn.BatchNorm2d)]
    for name in norms[1:]:
        parent_name, _, child = name.rpartition(".")
        parent = module.get_submodule(parent_name)
        setattr(parent, child, FixedBatchNorm2d.from_bn(getattr(parent, child)))
    return module
