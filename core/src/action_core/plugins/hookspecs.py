"""The plugin contract: hook specifications of the ``action`` pluggy project.

This module is the documented, versioned API that plugins implement. It is described by
:data:`PLUGIN_API_VERSION`; a plugin declares the version it was written for in a module attribute
``ACTION_PLUGIN_API = "1.0"``. A different major version is refused, a newer minor version is loaded
with a warning.

Registration hooks receive a ``register`` callable::

    register(name: str, target: str, *, summary: str = "", **fields) -> None

where ``target`` is a dotted ``"package.module:attribute"`` string and ``fields`` are the kind's typed
registration fields (:mod:`action_core.plugins.specs`: a misspelled field fails registration with the names
allowed). Nothing is imported when a plugin registers, so listing what exists never imports torch or the
plugin's model code. The host calls every hook through pluggy; a function in a plugin module named
``action_...`` that is not one of these hooks is reported (a warning at load, a failure in
``action-run plugins validate``). Hooks evolve by adding arguments; existing arguments are deprecated before
they are removed.

Run-time hooks observe training; they receive the running trainer as a :class:`RunState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pluggy

PROJECT_NAME = "action"
PLUGIN_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callable passed to every registration hook."""

    def __call__(self, name: str, target: str, *, summary: str = "", **fields: Any) -> None: ...


class RunState(Protocol):
    """What run-time hooks see of a running training (the :class:`~action_core.engine.Trainer`)."""

    @property
    def cfg(self) -> Any:
        """The resolved :class:`~action_core.engine.schema.ExperimentConfig`."""

    @property
    def work_dir(self) -> Path:
        """Where checkpoints, the config and the logs are written."""

    @property
    def epoch(self) -> int:
        """Epochs completed."""

    @property
    def iteration(self) -> int:
        """Optimiser steps taken."""

    @property
    def rank(self) -> int:
        """This process's global rank (0 when not distributed)."""

    @property
    def world_size(self) -> int:
        """Number of processes."""

    @property
    def history(self) -> Mapping[str, list[list[float]]]:
        """Logged curves: name → [[x, y], ...]."""

    @property
    def best(self) -> Mapping[str, Any]:
        """``{"metric", "value", "epoch"}`` of the best validation score so far."""


@hookspec
def action_register_models(register: Register) -> None:
    """Register complete models (recognizers, localizers) by name.

    ``target`` is a keyword-only builder returning an ``nn.Module``. Useful ``meta`` keys:
    ``params`` (parameter count of the default configuration), ``example_kwargs`` (small builder
    arguments for the conformance kit), ``example_input`` (the input shape for one tiny forward) and
    ``task`` (``"recognition"`` or ``"localization"``).

    The engine trains, tests and predicts with the model through its step protocol
    (:mod:`action_core.models.steps`): ``training_step(batch) -> {"loss": tensor, ...}`` and
    ``predict_step(batch)``, plus a ``task`` attribute equal to the registered one. A classifier whose
    ``forward`` returns logits needs neither method (core's default recognition steps apply); a localizer
    subclasses :class:`~action_core.models.localizers.BaseLocalizer` and implements both.
    """


@hookspec
def action_register_backbones(register: Register) -> None:
    """Register backbones (feature extractors) by name; ``target`` is a keyword-only builder."""


@hookspec
def action_register_necks(register: Register) -> None:
    """Register necks placed between a backbone and a head; ``target`` is a keyword-only builder."""


@hookspec
def action_register_heads(register: Register) -> None:
    """Register classification / localization heads; ``target`` is a keyword-only builder."""


@hookspec
def action_register_losses(register: Register) -> None:
    """Register loss functions; ``target`` is a class or builder returning an ``nn.Module``."""


@hookspec
def action_register_datasets(register: Register) -> None:
    """Register datasets.

    ``target`` is ``build(split, *, root, pipeline, test_mode, **args)`` returning a dataset whose
    items follow the documented sample schema and which has ``classes`` and ``multi_label``.
    """


@hookspec
def action_register_transforms(register: Register) -> None:
    """Register pipeline steps usable as ``{"type": name}``: frame samplers (the first step), decoders and
    transforms alike, resolved by :func:`action_core.data.build_pipeline`."""


@hookspec
def action_register_metrics(register: Register) -> None:
    """Register metrics; ``target`` is a class with ``update``, ``compute`` and ``reset``."""


@hookspec
def action_register_presets(register: Register) -> None:
    """Register named ready-to-run experiments.

    ``target`` is ``"pkg.module:ATTR"`` (a mapping, or a zero-argument function returning one) or a
    package resource ``"pkg:presets/name.toml"``.
    """


@hookspec
def action_register_converters(register: Register) -> None:
    """Register checkpoint converters (for example MMAction2 state dicts to this toolkit's keys).

    ``target`` is ``convert(checkpoint) -> (state_dict, unconverted_keys)``: ``checkpoint`` is a path or an
    already loaded mapping (a bare state dict or one wrapped as ``{"state_dict": ...}`` / ``{"model": ...}``);
    the result is the state dict under this toolkit's key names and a tuple of the source keys no rule
    mapped, to be reported, never dropped silently (``action_core.models.checkpoints`` has the helpers:
    ``extract_state_dict``, ``rename_keys``, ``load_converted``). Metadata keywords
    ``source`` (e.g. ``"mmaction2"``) and ``model`` (the builder the keys fit) let ``action-run info``
    say what converts to what.
    """


@hookspec
def action_register_commands(register: Register) -> None:
    """Register ``action-run`` subcommands; ``target`` is ``main(argv: list[str]) -> int | None``."""


@hookspec
def action_on_train_start(run: RunState) -> None:
    """Called once when a training run starts, after the model and data are built."""


@hookspec
def action_on_epoch_end(run: RunState, epoch: int, metrics: Mapping[str, float]) -> None:
    """Called at the end of every training epoch with that epoch's metrics."""


@hookspec
def action_on_log(run: RunState, step: int, scalars: Mapping[str, float]) -> None:
    """Called whenever the engine logs scalars (loss, learning rate, metrics)."""


@hookspec
def action_on_train_end(run: RunState, metrics: Mapping[str, float]) -> None:
    """Called once when a training run ends, with the final metrics."""


REGISTRATION_HOOKS: dict[str, str] = {
    "action_register_models": "model",
    "action_register_backbones": "backbone",
    "action_register_necks": "neck",
    "action_register_heads": "head",
    "action_register_losses": "loss",
    "action_register_datasets": "dataset",
    "action_register_transforms": "transform",
    "action_register_metrics": "metric",
    "action_register_presets": "preset",
    "action_register_converters": "converter",
    "action_register_commands": "command",
}
"""Registration hook name → the component kind it fills."""

RUNTIME_HOOKS: tuple[str, ...] = (
    "action_on_train_start",
    "action_on_epoch_end",
    "action_on_log",
    "action_on_train_end",
)

ALL_HOOKS: tuple[str, ...] = (*REGISTRATION_HOOKS, *RUNTIME_HOOKS)
"""Every hook of the plugin API."""
