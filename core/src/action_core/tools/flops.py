"""Parameters and FLOPs of a model, with a per-module table.

Counting uses :class:`torch.utils.flop_counter.FlopCounterMode`, which counts the floating-point
operations of matrix products and convolutions, **2 per multiply-accumulate**. MMAction2's model zoo
(through mmengine / fvcore) reports multiply-accumulates under the name "FLOPs", so the figure to compare
with it is :attr:`FlopReport.macs` (``flops / 2``). Element-wise ops, normalisation and pooling are not
counted by either convention's main term; they are a fraction of a percent for these networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import torch
from torch import nn
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from action_core.models.weights import count_parameters


@attrs.frozen
class ModuleCost:
    """One row of the per-module table."""

    name: str
    params: int
    flops: int


@attrs.frozen
class FlopReport:
    """What :func:`count_flops` measured."""

    input_shape: tuple[int, ...]
    params: int
    flops: int
    modules: tuple[ModuleCost, ...]

    @property
    def macs(self) -> int:
        """Multiply-accumulates: the number MMAction2 publishes as "FLOPs"."""
        return self.flops // 2

    def render(self, *, depth: int = 2) -> str:
        """A text table down to ``depth`` levels of module nesting, then the totals."""
        rows = [m for m in self.modules if m.name and m.name.count(".") < depth]
        width = max([len(m.name) for m in rows] + [6])
        lines = [f"{'module':<{width}}  {'params':>12}  {'GFLOPs':>9}  {'GMACs':>9}"]
        for m in rows:
            lines.append(f"{m.name:<{width}}  {m.params:>12,}  {m.flops / 1e9:>9.3f}  {m.flops / 2e9:>9.3f}")
        lines.append(
            f"{'total':<{width}}  {self.params:>12,}  {self.flops / 1e9:>9.3f}  {self.macs / 1e9:>9.3f}"
        )
        lines.append(
            f"input {tuple(self.input_shape)}; FLOPs count 2 per multiply-accumulate (torch.utils.flop_counter); "
            f"GMACs is the figure MMAction2 publishes as 'FLOPs'."
        )
        return "\n".join(lines)


def flop_formulas() -> dict[Any, Any]:
    """Formulas torch's counter lacks, for ``FlopCounterMode(custom_mapping=...)``: the fused attention
    kernel ``scaled_dot_product_attention`` runs on the CPU costs what the generic flash kernel costs."""
    cpu_kernel = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    count = getattr(flop_counter, "sdpa_flop_count", None)  # (query, key, value shapes) -> FLOPs
    if cpu_kernel is None or count is None or cpu_kernel in flop_counter.flop_registry:
        return {}

    def attention(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        return count(query, key, value)

    return {cpu_kernel: attention}


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> FlopReport:
    """Run one forward of ``model`` on zeros of ``input_shape`` (eval mode, no grad) and count FLOPs."""
    shape = tuple(int(s) for s in input_shape)
    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False, depth=None, custom_mapping=flop_formulas())
    try:
        with torch.no_grad(), counter:
            model(torch.zeros(shape))
    finally:
        model.train(was_training)
    counts = counter.get_flop_counts()
    modules = []
    for name, module in model.named_modules():
        key = f"{type(model).__name__}.{name}" if name else "Global"
        flops = sum(counts.get(key, {}).values())
        modules.append(ModuleCost(name, count_parameters(module), int(flops)))
    return FlopReport(shape, count_parameters(model), int(counter.get_total_flops()), tuple(modules))


def default_input_shape(model: nn.Module, *, size: int = 224) -> tuple[int, ...]:
    """One view of ``size`` x ``size`` pixels, with the frame count the model was built for."""
    fmt = getattr(model, "input_format", "NCTHW")
    frames = int(getattr(model, "num_segments", 0) or getattr(model, "clip_len", 0) or 8)
    if fmt == "NTCHW":
        return (1, frames, 3, size, size)
    return (1, 3, frames, size, size)
