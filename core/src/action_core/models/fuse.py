"""Batch-norm folding for inference and export.

In eval mode a batch norm that directly follows a convolution is an affine map of that convolution's output,
so it can be folded into the convolution's weight and bias and dropped: one pass over the activations less
per block (ResNet-50: 53 of them). Which batch norm follows which convolution is found by running the model
once with hooks (a batch norm whose input *is* a convolution's output tensor), so it works for any composed
model whatever its code looks like; a convolution whose output also feeds something else cannot be told
apart that way, so the folded copy is always checked against the eager model on the same input, and folding
is refused when they differ.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import attrs
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_weights

from action_core.errors import ActionError

__all__ = ["FoldError", "FoldReport", "fold_batchnorm"]

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class FoldError(ActionError, ValueError):
    """The folded model's outputs differ from the eager model's (batch norm folding refused)."""


@attrs.frozen
class FoldReport:
    """What :func:`fold_batchnorm` did: ``folded`` batch norms merged into their convolution, ``kept`` batch
    norms left as they are (not directly after a convolution, batch statistics, or called more than once),
    and the largest difference between the folded and the eager outputs on the check input."""

    folded: int
    kept: int
    max_abs_diff: float
    tolerance: float

    def describe(self) -> str:
        """One line for the log."""
        return (
            f"batch norm folded into {self.folded} convolutions ({self.kept} kept); outputs equal the eager "
            f"model's to {self.max_abs_diff:.1e} (tolerance {self.tolerance:.1e})"
        )


def _pairs(model: nn.Module, run: Callable[[nn.Module], Any]) -> tuple[list[tuple[str, str]], int, Any]:
    """Names of (convolution, batch norm) pairs where the batch norm's only input is the convolution's
    output, both called once per forward; the number of batch norms; the eager output."""
    names = {module: name for name, module in model.named_modules(remove_duplicate=False)}
    calls: dict[str, int] = {}
    outputs: dict[int, tuple[torch.Tensor, str]] = {}
    found: list[tuple[str, str]] = []
    used: dict[str, int] = {}

    def after_conv(module: nn.Module, args: Any, out: Any) -> None:
        name = names[module]
        calls[name] = calls.get(name, 0) + 1
        if isinstance(out, torch.Tensor):
            outputs[id(out)] = (out, name)

    def before_bn(module: nn.Module, args: Any) -> None:
        name = names[module]
        calls[name] = calls.get(name, 0) + 1
        x = args[0] if args else None
        hit = outputs.get(id(x)) if isinstance(x, torch.Tensor) else None
        if hit is not None and hit[0] is x:
            found.append((hit[1], name))
            used[hit[1]] = used.get(hit[1], 0) + 1

    handles = []
    bns = 0
    for module in model.modules():
        if isinstance(module, _CONVS):
            handles.append(module.register_forward_hook(after_conv))
        elif isinstance(module, _BatchNorm):
            bns += 1
            handles.append(module.register_forward_pre_hook(before_bn))
    try:
        reference = run(model)
    finally:
        for handle in handles:
            handle.remove()
    pairs = [
        (conv, bn)
        for conv, bn in found
        if calls.get(conv) == 1 and calls.get(bn) == 1 and used.get(conv) == 1
    ]
    return pairs, bns, reference


def _max_diff(a: Any, b: Any) -> float:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return float((a.float() - b.float()).abs().max()) if a.numel() else 0.0
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        return max((_max_diff(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return max((_max_diff(a[k], b[k]) for k in a), default=0.0)
    return 0.0 if a == b else float("inf")


def _scale(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.float().abs().max()) if value.numel() else 0.0
    if isinstance(value, (list, tuple)):
        return max((_scale(v) for v in value), default=0.0)
    if isinstance(value, dict):
        return max((_scale(v) for v in value.values()), default=0.0)
    return 0.0


def fold_batchnorm(
    model: nn.Module, run: Callable[[nn.Module], Any], *, tolerance: float = 1e-5
) -> tuple[nn.Module, FoldReport]:
    """A copy of ``model`` in eval mode with every batch norm that directly follows a convolution folded into
    it (the batch norm replaced by ``nn.Identity``); ``model`` itself is unchanged (and returned as it is when
    nothing can be folded).

    ``run(m)`` runs ``m``'s forward on an example input in fp32 (no autocast) and returns its output; it is
    called once on ``model`` (to find the pairs and the reference output) and once on the copy. The copy's
    output must equal the reference to ``tolerance`` relative to the output's largest magnitude (at least
    ``tolerance`` absolute), else :class:`FoldError`. The folded parameters are ordinary tensors (not
    inference tensors), so the copy can also be exported or traced.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            pairs, bns, reference = _pairs(model, run)
            if not any(model.get_submodule(bn).track_running_stats for _, bn in pairs):
                return model, FoldReport(folded=0, kept=bns, max_abs_diff=0.0, tolerance=0.0)
            folded = copy.deepcopy(model)
            for conv_name, bn_name in pairs:
                conv = cast(nn.Conv2d, folded.get_submodule(conv_name))  # or Conv1d / Conv3d
                bn = cast(_BatchNorm, folded.get_submodule(bn_name))
                if not bn.track_running_stats or bn.running_mean is None or bn.running_var is None:
                    continue
                fmt = (
                    torch.channels_last
                    if conv.weight.ndim == 4 and conv.weight.is_contiguous(memory_format=torch.channels_last)
                    else torch.channels_last_3d
                    if conv.weight.ndim == 5
                    and conv.weight.is_contiguous(memory_format=torch.channels_last_3d)
                    else torch.contiguous_format
                )
                weight, bias = fuse_conv_bn_weights(
                    conv.weight,
                    conv.bias,
                    bn.running_mean,
                    bn.running_var,
                    bn.eps,
                    bn.weight,
                    bn.bias,
                )
                conv.weight = nn.Parameter(weight.detach().contiguous(memory_format=fmt), requires_grad=False)
                conv.bias = nn.Parameter(bias.detach(), requires_grad=False)
                parent_name, _, attr = bn_name.rpartition(".")
                setattr(folded.get_submodule(parent_name) if parent_name else folded, attr, nn.Identity())
            count = sum(isinstance(m, _BatchNorm) for m in model.modules()) - sum(
                isinstance(m, _BatchNorm) for m in folded.modules()
            )
            output = run(folded)
    finally:
        model.train(was_training)
    limit = tolerance * max(1.0, _scale(reference))
    diff = _max_diff(output, reference)
    report = FoldReport(folded=count, kept=bns - count, max_abs_diff=diff, tolerance=limit)
    if not diff <= limit:
        raise FoldError(
            f"folding batch norm into {count} convolutions of {type(model).__name__} changed its outputs by "
            f"{diff:.3g} (more than {limit:.1e}); a convolution's output probably also feeds another layer. "
            "Run without folding (fold_bn = false)"
        )
    return folded, report
