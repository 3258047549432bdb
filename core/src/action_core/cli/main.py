"""``action-run``: the toolkit's command line.

``action-run --help`` and ``action-run plugins`` import neither torch nor any plugin module: commands
are looked up in a table of dotted targets and imported only when run. Plugins add commands through
the ``action_register_commands`` hook; they are found when a command name is not one of core's.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from action_core.errors import ActionError

# name → (dotted "module:function" taking argv and returning an exit code, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("action_core.cli.run:train_main", "train from a preset or config file"),
    "test": ("action_core.cli.run:test_main", "evaluate a checkpoint (multi-view testing)"),
    "predict": (
        "action_core.cli.apps:predict_main",
        "top-k labels of a video, or of many into a JSON-lines file (--out)",
    ),
    "timeline": ("action_core.cli.apps:timeline_main", "labels over time in a long video: JSON, PNG, video"),
    "live": ("action_core.cli.apps:live_main", "labels on a camera, a stream or a file played in real time"),
    "localize": ("action_core.cli.localize:main", "temporal action proposals from a localizer checkpoint"),
    "demo": ("action_core.cli.demo:main", "the main job: synthetic data, train + evaluate TSM and TSN"),
    "plugins": (
        "action_core.cli.plugins:main",
        "list installed plugins and their status; `plugins validate NAME`",
    ),
    "list": (
        "action_core.cli.components:list_main",
        "list registered components of a kind (models, presets, ...)",
    ),
    "info": ("action_core.cli.components:info_main", "show where a component comes from and what it is"),
    "config": (
        "action_core.cli.components:config_main",
        "`config show PRESET_OR_FILE [--set k=v]`: resolved config",
    ),
    "commands": (
        "action_core.cli.components:commands_main",
        "every command, core and plugins, each with its summary",
    ),
    "doctor": (
        "action_core.datasets.doctor:main",
        "check a dataset or list: unreadable files, frame counts, labels",
    ),
    "flops": ("action_core.cli.tools:flops_main", "parameters and FLOPs of a model, per module"),
    "export": ("action_core.cli.tools:export_main", "export a model to ONNX or TorchScript, verified"),
    "convert": (
        "action_core.cli.convert:main",
        "a foreign or pickled checkpoint as a plain state-dict file (safe to load)",
    ),
    "bench": ("action_core.cli.bench:main", "clips/s of the data pipeline; s/iter of training and inference"),
}

# How ``action-run --help`` groups the commands; a command missing here is listed under "other".
GROUPS: dict[str, tuple[str, ...]] = {
    "run a model": ("train", "test", "predict", "timeline", "live", "localize", "demo"),
    "data": ("doctor",),
    "inspect": ("list", "info", "config", "plugins", "commands"),
    "models and checkpoints": ("flops", "export", "convert", "bench"),
}

EPILOG = """\
Plugins add commands of their own (for example `action-run kinetics prepare`): `action-run commands` lists
every command, core and plugins, with its summary. `action-run COMMAND --help` shows a command's options.
Environment: ACTION_STRICT_PLUGINS=1 (plugin failures are fatal), ACTION_PLUGINS=a,b (allow-list),
ACTION_DISABLE_PLUGINS=a,b (deny-list), ACTION_DISABLE_PLUGIN_AUTOLOAD=1 (load only plugins asked for).
"""


def command_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Core commands as ``(group, [(name, summary), ...])``, in help order; each command once."""
    placed: set[str] = set()
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for title, names in GROUPS.items():
        rows = [(name, COMMANDS[name][1]) for name in names if name in COMMANDS]
        placed.update(name for name, _ in rows)
        if rows:
            groups.append((title, rows))
    rest = [(name, summary) for name, (_, summary) in COMMANDS.items() if name not in placed]
    if rest:
        groups.append(("other", rest))
    return groups


def format_commands(groups: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """The grouped command table of ``--help`` and ``action-run commands``."""
    width = max(len(name) for _, rows in groups for name, _ in rows)
    blocks = []
    for title, rows in groups:
        lines = [f"{title}:"] + [f"  {name:<{width}}  {summary}" for name, summary in rows]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="action-run",
        usage="action-run [--plugin NAME] [-v] COMMAND [ARGS...]",
        description="Train, test and run video action recognition and localization models.\n\n"
        + format_commands(command_groups()),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="load only this plugin (and what it depends on); repeatable",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("--version", action="store_true", help="print the version of action-core and exit")
    parser.add_argument("command", nargs="?", metavar="COMMAND", help="one of the commands above")
    parser.add_argument(
        "args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments of the command (see COMMAND --help)"
    )
    return parser


def _resolve(target: str) -> Callable[[list[str]], int | None]:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``action-run``; returns the process exit code."""
    parser = _parser()
    ns = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    level = logging.WARNING if ns.verbose == 0 else logging.INFO if ns.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # the one line saying which precision / memory format / compilation a run chose and why, shown by default
    logging.getLogger("action_core.hardware").setLevel(min(level, logging.INFO))
    if ns.version:
        from action_core.plugins.host import core_version

        print(f"action-core {core_version()}")
        return 0
    if not ns.command:
        parser.print_help()
        return 2
    try:
        if ns.plugin:
            from action_core.plugins import get_host

            get_host().restrict_to(ns.plugin)
        if ns.command in COMMANDS:
            func = _resolve(COMMANDS[ns.command][0])
        else:
            func = _plugin_command(ns.command)
        code = func(list(ns.args))
        return int(code or 0)
    except (ActionError, OSError) as e:
        # Known errors (bad input: a file, a line, a key) are one message naming the input and the fix;
        # -v shows where they came from. Anything else is a bug and keeps its traceback.
        if ns.verbose:
            traceback.print_exc()
        print(f"action-run: error: {_describe(e)}", file=sys.stderr)
        if not ns.verbose:
            print("action-run: (run with -v to see the traceback)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("action-run: interrupted", file=sys.stderr)
        return 130


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and not isinstance(e, ActionError) and e.filename:
        return f"{e.strerror or e}: {e.filename!r}"
    return _unwrap_worker_error(e, str(e))


def _unwrap_worker_error(e: BaseException, text: str) -> str:
    """The original message of an error raised in a DataLoader worker process.

    torch re-raises it in the main process as the same class with the worker's traceback as its message
    ("Caught X in DataLoader worker process 0. Original Traceback ..."); the user is owed the one line the
    error would have said in the main process (``-v`` shows the traceback).
    """
    if not text.startswith(f"Caught {type(e).__name__} in DataLoader worker process"):
        return text
    marker = f"{type(e).__module__}.{type(e).__qualname__}: "
    at = text.rfind(marker)
    return text[at + len(marker) :].strip() if at >= 0 else text


def _plugin_command(name: str) -> Callable[[list[str]], int | None]:
    from action_core.plugins import get_registry
    from action_core.registry import RegistryError

    try:
        entry = get_registry().get("command", name)
    except RegistryError as e:
        raise RegistryError(f"unknown command {name!r}. Core commands: {', '.join(COMMANDS)}. ({e})") from e
    return entry.load()


if __name__ == "__main__":
    sys.exit(main())
