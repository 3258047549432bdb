"""How the engine feeds batches to a model's steps (:mod:`action_core.models.steps`).

:func:`prepare_batch` puts a collated batch where the model runs: every tensor on the device, deferred
normalisation applied, recognition inputs laid out for ``channels_last``. :class:`StepModule` makes the
steps a module's ``forward`` so that DDP (gradient synchronisation) and ``torch.compile`` see the whole step,
whatever the model's task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import nn

from action_core.models.steps import model_task, predict_step, training_step

__all__ = ["StepModule", "as_step_module", "prepare_batch", "stepped_model", "views_layout"]


class StepModule(nn.Module):
    """``forward(batch, "train")`` is ``model``'s training step, ``forward(batch, "predict")`` its prediction
    step. Holds ``model`` as its only child, so train/eval modes and parameters are the model's."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Mapping[str, Any], mode: Literal["train", "predict"]) -> Any:
        """Run one step of the wrapped model on a prepared batch."""
        if mode == "train":
            return training_step(self.model, batch)
        return predict_step(self.model, batch)


def as_step_module(model: nn.Module) -> nn.Module:
    """``model`` when it already runs steps (a :class:`StepModule`, possibly compiled), else one around it."""
    inner = getattr(model, "_orig_mod", model)  # torch.compile's wrapper
    return model if isinstance(inner, StepModule) else StepModule(model)


def stepped_model(model: nn.Module) -> nn.Module:
    """The model whose steps ``model`` runs: through ``torch.compile``'s wrapper and a :class:`StepModule`."""
    inner = getattr(model, "_orig_mod", model)
    return inner.model if isinstance(inner, StepModule) else model


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)
    if isinstance(value, list):
        return [_to_device(v, device) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_device(v, device) for v in value)
    if isinstance(value, Mapping):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def views_layout(inputs: torch.Tensor, model: nn.Module, channels_last: bool) -> torch.Tensor:
    """Recognition ``inputs`` (N, V, C, ...) in the memory format that folding the views keeps: after
    ``flatten(0, 1)`` a 3D model's clips are ``channels_last_3d`` and 4-D frames ``channels_last``."""
    if not channels_last:
        return inputs
    if (inputs.ndim == 6 and getattr(model, "input_format", "") == "NCTHW") or inputs.ndim == 5:
        # channels innermost, (N, V) outermost: the fold is a view with the channels-last strides
        return inputs.movedim(2, -1).contiguous().movedim(-1, 2)
    return inputs


def prepare_batch(
    batch: Mapping[str, Any], device: torch.device, *, model: nn.Module, channels_last: bool = False
) -> dict[str, Any]:
    """``batch`` on ``device`` for ``model``'s steps: tensors (also in lists) moved without blocking,
    ``inputs`` normalised when the pipeline deferred it (the ``norm`` entry is consumed), and with
    ``channels_last`` recognition inputs laid out by :func:`views_layout`."""
    from action_core.data import normalize_batch

    prepared = {k: _to_device(v, device) for k, v in batch.items() if k != "norm"}
    if isinstance(prepared.get("inputs"), torch.Tensor):
        inputs = normalize_batch(prepared["inputs"], batch.get("norm"))
        if model_task(model) == "recognition":
            inputs = views_layout(inputs, model, channels_last)
        prepared["inputs"] = inputs
    return prepared
