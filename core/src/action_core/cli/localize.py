"""Localization models run through their plugin's command.

Core's engine trains classifiers; a localizer (a registered model whose metadata says
``task = "localization"``) brings its own training and inference chain as a plugin command (``bmn``,
``bsn``). ``action-run train|test PRESET`` and ``action-run localize`` find that command from the model
type named in the config or checkpoint and hand it the arguments, so users need not know which plugin
implements which model.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from action_core.errors import ActionError


def model_type_of(config: str | None = None, checkpoint: str | None = None) -> str | None:
    """The ``[model] type`` of a preset/config file, or of the config stored in a checkpoint."""
    if config is not None:
        from action_core.config import load_source

        model = load_source(config).get("model")
        return model.get("type") if isinstance(model, Mapping) else None
    if checkpoint is not None:
        from action_core.engine.checkpoint import load_checkpoint

        state = load_checkpoint(checkpoint)
        for model in (state.get("model"), ((state.get("meta") or {}).get("config") or {}).get("model")):
            if isinstance(model, Mapping) and isinstance(model.get("type"), str):
                return model["type"]
    return None


def localizer_command(model_type: str | None) -> Callable[[list[str]], int | None] | None:
    """The command of the plugin that provides ``model_type`` when it is a localizer, else None."""
    if not model_type:
        return None
    from action_core.plugins import get_registry

    registry = get_registry()
    entry = registry.get("model", model_type)
    if entry.spec.task != "localization":
        return None
    commands = [e for e in registry.entries("command") if e.plugin == entry.plugin]
    if not commands:
        raise ActionError(
            f"model {model_type!r} is a localizer from plugin {entry.plugin!r} ({entry.distribution}), which "
            f"registers no command to run it; upgrade {entry.distribution}"
        )
    return commands[0].load()


def main(argv: list[str]) -> int:
    """``action-run localize --checkpoint CKPT [--config C] ...``: proposals for a features folder."""
    parser = argparse.ArgumentParser(
        prog="action-run localize",
        description="Temporal action proposals from features; the remaining arguments go to the localizer's "
        "plugin (for BMN: --annotations FILE --features DIR --out proposals.json).",
    )
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", help="preset or config (default: the one stored in the checkpoint)")
    known, _ = parser.parse_known_args(argv)
    model_type = model_type_of(known.config, known.checkpoint)
    command = localizer_command(model_type)
    if command is None:
        raise ActionError(
            f"cannot tell which localizer {known.checkpoint!r} holds (model type {model_type!r}); pass "
            f"--config with the preset it was trained with"
        )
    return int(command(["localize", *argv]) or 0)


def delegate(action: str, config: str, argv: list[str]) -> int | None:
    """Run ``train``/``test`` of a localization preset through its plugin; None for other models."""
    try:
        model_type = model_type_of(config)
    except ActionError:
        return None  # not a readable config: the normal path reports it
    command = localizer_command(model_type)
    if command is None:
        return None
    args: list[Any] = [action, *argv]
    if action == "train" and "--work-dir" not in argv:
        from action_core.engine.commands import default_work_dir

        args += ["--work-dir", str(default_work_dir(config))]
    return int(command(args) or 0)
