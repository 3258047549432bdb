"""The inference fast path shared by ``action-run test``, batch prediction and the Inferencer.

:func:`inference_model` takes a built model with its weights loaded and returns the module the prediction
loop runs: on the device, in eval mode, in the memory format and precision chosen for the device
(:func:`action_core.hardware.choose_speed`, one log line), with batch norms folded into their convolutions
(:func:`action_core.models.fuse.fold_batchnorm`, checked against the eager model on an example batch) and,
where asked for, compiled. The loop itself runs under ``torch.inference_mode``
(:func:`action_core.engine.inference.collect_predictions`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

import torch
from torch import nn

from action_core.hardware import SpeedSettings, choose_speed
from action_core.models.fuse import FoldError, fold_batchnorm
from action_core.models.steps import model_task, predict_step

__all__ = ["conv_dims", "convert_memory_format", "inference_model"]

logger = logging.getLogger("action_core.engine.fastpath")


def convert_memory_format(model: nn.Module) -> nn.Module:
    """Weights of 2D convolutions to ``channels_last``, of 3D convolutions to ``channels_last_3d`` (in place)."""
    for param in model.parameters():
        if param.ndim == 4:
            param.data = param.data.contiguous(memory_format=torch.channels_last)
        elif param.ndim == 5:
            param.data = param.data.contiguous(memory_format=torch.channels_last_3d)
    return model


def conv_dims(model: nn.Module) -> int:
    """3 for a model taking clips (``input_format = "NCTHW"``: 3D convolutions), else 2."""
    return 3 if getattr(model, "input_format", "") == "NCTHW" else 2


def inference_model(
    model: nn.Module,
    example: Mapping[str, Any] | None,
    *,
    device: torch.device,
    amp: str = "auto",
    channels_last: bool | str = "auto",
    compile: bool | str = "auto",
    fold_bn: bool = True,
    tune_memory: bool = True,
    log: bool = True,
) -> tuple[nn.Module, SpeedSettings]:
    """The module to predict with (a :class:`~action_core.engine.step_module.StepModule`, compiled when
    chosen) and the resolved settings (``settings.amp.value`` is the autocast to run under).

    ``example``: a collated batch (as the loader gives it, at least one sample) to find and check the batch
    norms to fold; ``None`` skips folding. Folding applies to recognizers; where the folded model's outputs
    differ from the eager model's the eager model is kept, with a warning. ``model`` is moved to ``device``
    but otherwise left as it is (folding works on a copy). ``tune_memory``: keep freed memory for reuse
    (:func:`~action_core.data.keep_freed_memory`, as the trainer does), so that each batch's hundreds of MB
    of activations are not page-faulted in anew (SlowFast-R50 inference on a CPU: 1.4x faster)."""
    from action_core.engine.step_module import StepModule, prepare_batch

    model.to(device).eval()
    if tune_memory:
        from action_core.data import keep_freed_memory

        keep_freed_memory()
    settings = choose_speed(
        device,
        amp=amp,
        channels_last=channels_last,
        compile=compile,
        log=log,
        task="infer",
        conv_dims=conv_dims(model),
    )
    layout = bool(settings.channels_last.value)
    if layout:
        convert_memory_format(model)
    if fold_bn and example is not None and model_task(model) == "recognition":
        prepared = prepare_batch(example, device, model=model, channels_last=layout)
        try:
            model, report = fold_batchnorm(model, lambda m: predict_step(m, prepared))
        except FoldError as e:
            logger.warning("%s; predicting with the unfolded model", e)
        else:
            if log:
                logger.info(report.describe())
    step: nn.Module = StepModule(model)
    if settings.compile.value:
        # freezing: inductor treats the weights as constants (batch norm folding, oneDNN weight prepacking,
        # convolution + activation fusion); the module only predicts from here on
        step = cast(nn.Module, torch.compile(step, options={"freezing": True}))
    return step, settings
