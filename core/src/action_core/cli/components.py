"""``action-run list | info | config show | commands``: what the registry holds."""

from __future__ import annotations

import argparse
import sys

import tomli_w

from action_core.config import apply_overrides, load_source
from action_core.plugins import get_host, get_registry
from action_core.registry import KINDS, RegistryError, normalize_kind


def _report_skips() -> None:
    for line in get_host().report():
        print(f"note: plugin {line}", file=sys.stderr)


def list_main(argv: list[str]) -> int:
    """Print registered components of one kind with their plugin and summary."""
    parser = argparse.ArgumentParser(prog="action-run list", description="List registered components.")
    parser.add_argument("kind", help=f"one of: {', '.join(KINDS)} (plural accepted)")
    args = parser.parse_args(argv)
    kind = normalize_kind(args.kind)
    host = get_host()
    host.load_all()
    entries = list(get_registry().entries(kind))
    if not entries:
        print(f"no {kind}s registered")
    width = max((len(e.name) for e in entries), default=0)
    for e in entries:
        print(f"{e.name:<{width}}  [{e.plugin}]  {e.summary}".rstrip())
    _report_skips()
    return 0


def info_main(argv: list[str]) -> int:
    """Show one component: kind, plugin, distribution, target, summary and metadata."""
    parser = argparse.ArgumentParser(prog="action-run info", description="Describe a registered component.")
    parser.add_argument("name", help="a component name (tsm_r50, resnet_tsm, kinetics400...), or plugin:name")
    parser.add_argument("--kind", help="restrict to one kind")
    args = parser.parse_args(argv)
    registry = get_registry()
    get_host().load_all()
    kinds = [normalize_kind(args.kind)] if args.kind else list(KINDS)
    found = []
    errors: list[RegistryError] = []
    for kind in kinds:
        try:
            found.append(registry.get(kind, args.name))
        except RegistryError as e:
            errors.append(e)
    if not found:
        # A name two plugins register, or a close match, says more than "no component".
        telling = [e for e in errors if "several plugins" in str(e) or "Did you mean" in str(e)]
        if telling or len(kinds) == 1:
            raise (telling or errors)[0]
        from action_core.plugins.known import install_hint

        hint = install_hint(args.name)
        raise RegistryError(
            f"no component named {args.name!r} of any kind"
            + (f"; it is provided by a first-party plugin that is not installed: {hint}" if hint else "")
        )
    for found_entry in found:
        print(f"{found_entry.kind} {found_entry.name}")
        print(f"  plugin:       {found_entry.plugin} ({found_entry.distribution} {found_entry.version})")
        print(f"  target:       {found_entry.target}")
        if found_entry.summary:
            print(f"  summary:      {found_entry.summary}")
        for k, v in found_entry.spec.fields().items():
            print(f"  {k + ':':<13} {v}")
    return 0


def config_main(argv: list[str]) -> int:
    """``config show SOURCE [--set k=v ...]``: print the resolved config as TOML."""
    parser = argparse.ArgumentParser(prog="action-run config", description="Show resolved configs.")
    sub = parser.add_subparsers(dest="action", required=True)
    show = sub.add_parser("show", help="print a preset or config file after _base_ and overrides")
    show.add_argument("source", help="preset name or config file")
    show.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="overrides",
        help="override a dotted key, e.g. --set data.batch_size=4 (repeatable)",
    )
    show.add_argument(
        "--expand",
        action="store_true",
        help="print [model] composed from its registered parts ([model.backbone], [model.neck], [model.head])",
    )
    show.add_argument(
        "--raw", action="store_true", help="print the merged data without validating it as an experiment"
    )
    show.add_argument(
        "--videos", metavar="DIR_OR_LIST", help="the config `action-run train SOURCE --videos DIR` builds"
    )
    show.add_argument("--label-map", help="with --videos: class names, one per line")
    show.add_argument("--work-dir", help="with --videos: the work dir train would use (for the list paths)")
    show.add_argument("--seed", type=int, help="with --videos: the split seed (train.seed)")
    show.add_argument("--from", dest="init_from", metavar="SOURCE", help="as train --from")
    show.add_argument("--freeze", metavar="PART", help="as train --freeze")
    show.add_argument("--lr-preset", choices=["finetune", "head", "recipe"], help="as train --lr-preset")
    args = parser.parse_args(argv)
    if args.videos or args.init_from or args.freeze or args.lr_preset:
        from action_core.engine.commands import training_config

        cfg, _ = training_config(
            args.source,
            args.overrides,
            seed=args.seed,
            videos=args.videos,
            label_map=args.label_map,
            work_dir=args.work_dir,
            init_from=args.init_from,
            freeze=args.freeze,
            lr_preset=args.lr_preset,
        )
        data = cfg.to_dict()
    else:
        data = apply_overrides(load_source(args.source), args.overrides)
    if args.expand and isinstance(data.get("model"), dict):
        data["model"] = expanded_model_table(data["model"])
    if not args.raw:
        from action_core.engine.schema import ExperimentConfig

        ExperimentConfig.from_dict(data, source=args.source)
    sys.stdout.write(tomli_w.dumps(data))
    return 0


def expanded_model_table(model: dict) -> dict:
    """A ``[model]`` table with a shorthand builder replaced by its composition from registered parts."""
    from action_core.models.compose import PART_KINDS, expand_model

    if any(model.get(part) is not None for part in ("backbone", "neck", "head")):
        return model  # already composed
    num_classes = model.get("num_classes")
    spec = expand_model(model["type"], num_classes=num_classes, **dict(model.get("args") or {}))
    table: dict = {"type": spec.pop("type"), "num_classes": num_classes}
    parts = {k: spec.pop(k) for k in list(spec) if k in PART_KINDS and isinstance(spec[k], dict)}
    spec.pop("num_classes", None)
    if spec:
        table["args"] = spec
    table.update(parts)
    _check_nones(spec, "model", "model", spec_type=table["type"])
    for name, part in parts.items():
        _check_nones(part, PART_KINDS[name], f"model.{name}")
    result = _drop_none(table)
    assert isinstance(result, dict)
    return result


def _check_nones(table: dict, kind: str, where: str, *, spec_type: str | None = None) -> None:
    """TOML has no null: a ``None`` is left out, which is right only where it is the builder's default."""
    import inspect

    from action_core.errors import ConfigError
    from action_core.models.compose import PART_KINDS

    nones = [k for k, v in table.items() if v is None]
    if not nones:
        return
    builder = get_registry().load(kind, spec_type or table["type"])
    params = inspect.signature(builder).parameters
    for key in nones:
        default = params[key].default if key in params else None
        if default is not None and default is not inspect.Parameter.empty:
            raise ConfigError(
                f"{where}.{key} is None, which a TOML config cannot hold, and {kind} "
                f"{spec_type or table['type']!r} defaults it to {default!r}: the expanded config would differ"
            )
    for key, value in table.items():
        if isinstance(value, dict) and key in PART_KINDS and "type" in value:
            _check_nones(value, PART_KINDS[key], f"{where}.{key}")


def _drop_none(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


def commands_main(argv: list[str]) -> int:
    """List every command once: core's, grouped as ``--help`` groups them, then each plugin's."""
    argparse.ArgumentParser(
        prog="action-run commands",
        description="List every command, core and plugins, each once with its summary.",
    ).parse_args(argv)
    from action_core.cli.main import command_groups, format_commands

    groups = command_groups()
    get_host().load_all()
    by_plugin: dict[str, list[tuple[str, str]]] = {}
    for e in get_registry().entries("command"):
        by_plugin.setdefault(f"plugin {e.plugin} ({e.distribution})", []).append((e.name, e.summary))
    groups += sorted(by_plugin.items())
    print(format_commands(groups))
    if not by_plugin:
        print("\nno plugin adds commands")
    _report_skips()
    return 0
