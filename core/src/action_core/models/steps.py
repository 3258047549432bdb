"""The model step protocol: the two calls through which the engine trains and evaluates a model of any task.

The Trainer, ``action-run test``, ``predict`` and ``localize`` call a model only through these methods::

    training_step(batch: Mapping[str, Any]) -> dict[str, torch.Tensor]
    predict_step(batch: Mapping[str, Any]) -> Any

and read one attribute, ``task`` (``"recognition"`` when absent, or ``"localization"``), which picks how
predictions are evaluated.

``batch`` is a collated batch as the dataset (and its ``collate``, when it has one) made it, with every
tensor, also inside lists, on the run's device and ``inputs`` normalised (a deferred
``Normalize(on_device=True)`` is applied by the engine, which drops the ``norm`` entry).

``training_step`` returns the losses of one batch: a ``"loss"`` entry, the scalar tensor that is
back-propagated, and any other scalar tensors worth logging (each logged as ``train/<name>``, averaged over
``train.log_interval`` steps). It runs in train mode, under autocast when ``train.amp`` is set (compute
losses in float32: :func:`float32_losses` leaves autocast), and through DDP under ``torchrun``, so call
``self(...)`` (the module's ``forward``) for the network outputs.

``predict_step`` returns what the task's evaluation consumes; it runs in eval mode under
``torch.inference_mode()``:

- recognition: scores (N, K), or per-view logits (N, V, K) which the engine averages over the V views
  (clips x crops) as ``test.average`` says; the classification metrics get the averaged (N, K);
- localization: one ``(video_name, result)`` pair per sample; ``result`` is a list of
  ``{"segment": [t0, t1] (seconds), "score": s}`` proposals, which the localization metrics
  (``activitynet_proposal``: AR@AN, AUC) compare with the dataset's ``ground_truth()``, or an intermediate
  result of a stage-wise method (BSN's TEM rows) that has no metric.

A model without the methods, a plain classifier with ``forward(x) -> logits`` for one view per sample and
optionally ``loss(logits, target)``, is trained and evaluated with :func:`recognition_training_step` and
:func:`recognition_predict_step`, which :class:`~action_core.models.Recognizer2D` / ``Recognizer3D`` use
too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Protocol, cast, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from action_core.models.views import fold_views

__all__ = [
    "StepModel",
    "Task",
    "float32_losses",
    "model_task",
    "predict_step",
    "recognition_predict_step",
    "recognition_training_step",
    "training_step",
]

Task = Literal["recognition", "localization"]


@runtime_checkable
class StepModel(Protocol):
    """A model the engine drives through its steps (see the module documentation)."""

    def training_step(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Losses of one training batch: ``"loss"`` (back-propagated) and other scalars to log."""

    def predict_step(self, batch: Mapping[str, Any]) -> Any:
        """Predictions of one batch in the form the model's ``task`` is evaluated on."""


def model_task(model: nn.Module) -> Task:
    """The ``task`` a model declares: ``"recognition"`` (the default) or ``"localization"``."""
    task = getattr(model, "task", "recognition")
    if task not in ("recognition", "localization"):
        raise ValueError(
            f"{type(model).__name__}.task = {task!r} is not a task the engine evaluates; use 'recognition' "
            "or 'localization'"
        )
    return cast("Literal['recognition', 'localization']", task)


@contextlib.contextmanager
def float32_losses(device: torch.device | str) -> Iterator[None]:
    """Leave autocast for the loss arithmetic (give it float32 tensors: ``logits.float()``)."""
    with torch.autocast(torch.device(device).type, enabled=False):
        yield


def recognition_training_step(model: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The classifier's step: views folded into the batch, targets repeated per view, ``model.loss(logits,
    target)`` when the model has one, else cross-entropy (binary cross-entropy for float multi-hot targets),
    computed in float32 outside autocast."""
    inputs, _, views = fold_views(batch["inputs"])
    target = torch.as_tensor(batch["label"], device=inputs.device)
    if views > 1:
        target = target.repeat_interleave(views, dim=0)
    logits = model(inputs)
    with float32_losses(inputs.device):
        logits = logits.float()
        loss_fn = getattr(model, "loss", None)
        if callable(loss_fn):
            loss = loss_fn(logits, target)
        elif target.dtype.is_floating_point:
            loss = F.binary_cross_entropy_with_logits(logits, target)
        else:
            loss = F.cross_entropy(logits, target)
    return {"loss": loss}


def recognition_predict_step(model: nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
    """Per-view logits (N, V, K) of a batch of views (N, V, ...), in float32."""
    inputs, n, views = fold_views(batch["inputs"])
    return model(inputs).float().reshape(n, views, -1)


def training_step(model: nn.Module, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``model.training_step(batch)``, or the default recognition step; checks the ``"loss"`` entry."""
    step = getattr(model, "training_step", None)
    losses = step(batch) if callable(step) else recognition_training_step(model, batch)
    if not isinstance(losses, Mapping) or not isinstance(losses.get("loss"), torch.Tensor):
        raise TypeError(
            f"{type(model).__name__}.training_step must return a dict of tensors with a 'loss' entry (the "
            f"scalar to back-propagate), got {type(losses).__name__}"
            + (f" with keys {sorted(losses)}" if isinstance(losses, Mapping) else "")
        )
    return dict(losses)


def predict_step(model: nn.Module, batch: Mapping[str, Any]) -> Any:
    """``model.predict_step(batch)``, or the default recognition step."""
    step = getattr(model, "predict_step", None)
    return step(batch) if callable(step) else recognition_predict_step(model, batch)
