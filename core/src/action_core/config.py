"""Typed configuration: files (TOML, or YAML when PyYAML is installed), presets, dotted overrides.

Configs are data, never executed. A config source is a file path or the name of a registered preset.
Either may name a base with ``_base_ = "other_preset_or_path"``; a table of the child with ``_delete_ = true``
replaces the base's table instead of being merged into it. The child's keys are merged over the
base's (tables merged recursively, everything else replaced). Overrides from the command line are
``dotted.key=value`` strings whose value is read as a TOML value (``0.01``, ``true``, ``[1, 2]``,
``"text"``) or, when that fails, as a bare string; the structuring step then converts and validates it
against the field's declared type, so errors name the key.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping, MutableMapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
import cattrs.gen
import tomli_w

from action_core.errors import ConfigError, RegistryError

T = TypeVar("T")
BASE_KEY = "_base_"
DELETE_KEY = "_delete_"

_converter = cattrs.Converter(forbid_extra_keys=True)


def _strict(kind: type, words: str) -> Any:
    # cattrs converts with int()/float()/str() by default: 1.5 would silently become 1. Configs say exactly.
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"= {value!r} must be {words}")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise ValueError(f"= {value!r} must be {words}")
        return value

    return hook


for _kind, _words in ((int, "an integer"), (float, "a number"), (str, "a string"), (bool, "true or false")):
    _converter.register_structure_hook(_kind, _strict(_kind, _words))


def _flag_or_word(value: Any, _: Any) -> bool | str:
    # "true, false or a word" settings (train.channels_last = "auto"); the field's validator checks the word.
    if not isinstance(value, (bool, str)):
        raise ValueError(f"= {value!r} must be true, false or a string")
    return value


_converter.register_structure_hook(bool | str, _flag_or_word)


def _table_hook(value: Any, _: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{value!r} must be a table (mapping)")
    return {str(k): copy.deepcopy(v) for k, v in value.items()}


_converter.register_structure_hook_func(lambda cl: typing.get_origin(cl) is dict, _table_hook)


def _list_hook_factory(cl: Any) -> Any:
    (inner,) = typing.get_args(cl) or (Any,)

    def hook(value: Any, _: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"= {value!r} must be a list")
        return [_converter.structure(v, inner) if inner is not Any else v for v in value]

    return hook


_converter.register_structure_hook_factory(lambda cl: typing.get_origin(cl) is list, _list_hook_factory)


def _attrs_hook_factory(cl: type) -> Any:
    inner: Any = cattrs.gen.make_dict_structure_fn(cl, _converter, _cattrs_forbid_extra_keys=True)

    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(f"= {value!r} must be a table (mapping)")
        try:
            return inner(value, cl)
        except ConfigError as e:  # a class-level check (attrs validator, post-init): keep its words
            raise ValueError(str(e)) from e

    return hook


_converter.register_structure_hook_factory(attrs.has, _attrs_hook_factory)


def read_file(path: str | Path) -> dict[str, Any]:
    """Parse a TOML or YAML file into a dict; a syntax error names the file and the line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config file {str(p)!r}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}:{line}: not UTF-8 text (byte {e.object[e.start]:#04x}); save the config as UTF-8"
        ) from e
    return parse_text(text, source=str(p), fmt=p.suffix.lower().lstrip(".") or "toml")


def parse_text(text: str, *, source: str, fmt: str = "toml") -> dict[str, Any]:
    """Parse config text of format ``toml`` or ``yaml``; ``source`` names it in errors."""
    if fmt in {"yaml", "yml"}:
        try:
            import yaml
        except ImportError as e:
            raise ConfigError(f"{source}: YAML configs need PyYAML: pip install 'action-core[yaml]'") from e
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ConfigError(f"{source}:{where} malformed YAML: {getattr(e, 'problem', e)}") from e
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(
                f"{source}: a config file must hold a mapping at top level, not {type(data).__name__}"
            )
        return data
    if fmt != "toml":
        raise ConfigError(f"{source}: unsupported config format {fmt!r}; use .toml (or .yaml with PyYAML)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: malformed TOML: {e}") from e


def load_preset(name: str) -> dict[str, Any]:
    """The mapping of a registered preset (a deep copy, safe to modify)."""
    from action_core.plugins import get_registry

    entry = get_registry().get("preset", name)
    target = entry.target
    module_name, _, attr = target.partition(":")
    if attr.endswith((".toml", ".yaml", ".yml")):
        try:
            text = resources.files(module_name).joinpath(attr).read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError) as e:
            raise ConfigError(
                f"preset {name!r} of plugin {entry.plugin!r}: cannot read resource {target!r}: {e}"
            ) from e
        return parse_text(text, source=f"preset {name!r} ({target})", fmt=Path(attr).suffix.lstrip("."))
    value = entry.load()
    if callable(value):
        value = value()
    if not isinstance(value, Mapping):
        raise ConfigError(f"preset {name!r} ({target}) is a {type(value).__name__}, not a mapping")
    return copy.deepcopy(dict(value))


def merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child over base: nested tables merge, other values replace. A child table holding
    ``_delete_ = true`` replaces the base's table of that name instead of merging into it (MMAction2's
    ``_delete_=True``), e.g. to give a dataset other arguments than the base's."""
    out = copy.deepcopy(dict(base))
    for key, value in child.items():
        if isinstance(value, Mapping) and value.get(DELETE_KEY) is True:
            out[key] = _without_delete(value)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = _without_delete(value)
    return out


def _without_delete(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_delete(v) for k, v in value.items() if k != DELETE_KEY}
    return copy.deepcopy(value)


def load_source(source: str | os.PathLike[str], *, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load a config file or preset by name, resolving ``_base_`` chains."""
    key = str(source)
    if key in _seen:
        raise ConfigError(f"config {key!r} inherits from itself through {' -> '.join(_seen)}")
    path = Path(key)
    if path.suffix.lower() in {".toml", ".yaml", ".yml"} or path.exists():
        data = read_file(path)
        base_dir: Path | None = path.parent
    else:
        try:
            data = load_preset(key)
        except RegistryError as e:
            raise ConfigError(f"{key!r} is neither a config file nor a known preset: {e}") from e
        base_dir = None
    base = data.pop(BASE_KEY, None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{key}: {BASE_KEY} must be a preset name or a file path, not {base!r}")
    if base_dir is not None and (base_dir / base).exists():
        base = str(base_dir / base)
    return merge(load_source(base, _seen=(*_seen, key)), data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"optim.lr=0.01"`` → (["optim", "lr"], 0.01); ``pipeline[2]`` is the same as ``pipeline.2``."""
    key, sep, raw = text.partition("=")
    key = re.sub(r"\[(\d+)\]", r".\1", key.strip())
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {text!r} is not of the form dotted.key=value (e.g. optim.lr=0.01)")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.split("."), value


def apply_overrides(data: MutableMapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides to a config mapping (a new dict is returned).

    A numeric part indexes a list: ``data.train.pipeline.2.size=28`` (or ``pipeline[2].size``) sets ``size``
    of the third step.
    """
    out = copy.deepcopy(dict(data))
    for text in overrides:
        path, value = parse_override(text)
        node: Any = out
        for i, part in enumerate(path):
            last = i == len(path) - 1
            where = ".".join(path[: i + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(
                        f"override {text!r}: {'.'.join(path[:i]) or 'config'} is a list of {len(node)} items; "
                        f"use an index 0..{len(node) - 1} instead of {part!r}"
                    )
                key: Any = int(part)
            elif isinstance(node, MutableMapping):
                key = part
            else:
                raise ConfigError(
                    f"override {text!r}: {'.'.join(path[:i])} is a {type(node).__name__}, not a table"
                )
            if last:
                node[key] = value
            else:
                nxt = node[key] if isinstance(node, list) else node.get(key)
                if nxt is None:
                    nxt = node[key] = {}
                elif not isinstance(nxt, (MutableMapping, list)):
                    raise ConfigError(f"override {text!r}: {where} is a {type(nxt).__name__}, not a table")
                node = nxt
    return out


def structure(cls: type[T], data: Mapping[str, Any], *, source: str = "config") -> T:
    """Build the attrs class ``cls`` from ``data``; every problem is reported with its dotted key."""
    try:
        return _converter.structure(dict(data), cls)
    except Exception as e:
        lines = _describe_errors(e)
        if len(lines) == 1:
            raise ConfigError(f"{source}: {lines[0]}") from e
        raise ConfigError(f"{source}: invalid configuration:\n  " + "\n  ".join(lines)) from e


def _describe_errors(exc: BaseException) -> list[str]:
    lines: list[str] = []
    if isinstance(exc, cattrs.BaseValidationError):
        messages = cattrs.transform_error(exc, path="$", format_exception=_format_exception)
    else:
        messages = [str(exc)]
    for msg in messages:
        text, _, path = msg.rpartition(" @ ")
        if not _:
            lines.append(msg)
            continue
        key = path.replace("$.", "").replace("$", "").lstrip(".")
        key = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)
        unknown = _unknown_keys(text)
        if unknown is not None:
            lines += [f"unknown key {key + '.' if key else ''}{name}; check the spelling" for name in unknown]
            continue
        if text == "required field missing":
            lines.append(f"missing required key {key}")
            continue
        named = re.match(r"'(\w+)' (must .*)", text)
        if named:  # an attrs validator names the field itself: move it into the key path
            key = f"{key}.{named.group(1)}" if key else named.group(1)
            text = named.group(2)
        if "<split>" in text:  # a split's own check names its section generically
            split = re.match(r"data\.(\w+)", key)
            text = text.replace("data.<split>", f"data.{split.group(1)}" if split else "data.<split>")
        if text.startswith(("model.", "data.", "optim.", "schedule.", "train.", "test.")):
            lines.append(text)  # the check already names its dotted key
        elif text.startswith("= "):
            lines.append(f"{key or '<top level>'} {text}")
        else:
            lines.append(f"{key or '<top level>'}: {text}")
    return lines or [f"{type(exc).__name__}: {exc}"]


def _format_exception(exc: BaseException, type_: Any) -> str:
    # attrs validators already say which field and which value; keep their words.
    if isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, cattrs.BaseValidationError):
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        if text and "invalid literal" not in text and "could not convert" not in text:
            return text
    return cattrs.v.format_exception(exc, type_)


def _unknown_keys(text: str) -> list[str] | None:
    if text.startswith("extra fields found"):
        return [name.strip() for name in text.partition("(")[2].rstrip(")").split(",")]
    return None


def unstructure(obj: Any) -> dict[str, Any]:
    """A plain, TOML-serialisable mapping of an attrs config (``None`` values dropped)."""
    return _drop_none(_converter.unstructure(obj))


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


def save(config: Any, path: str | Path) -> Path:
    """Write a config (attrs instance or mapping) as TOML; returns the path."""
    data = unstructure(config) if attrs.has(type(config)) else _drop_none(dict(config))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(tomli_w.dumps(data), encoding="utf-8")
    return p


def load_config(source: str | Path, overrides: Iterable[str] = (), cls: type[T] | None = None) -> Any:
    """Resolve a file or preset, apply overrides and, when ``cls`` is given, structure and validate it."""
    data = apply_overrides(load_source(source), overrides)
    if cls is None:
        return data
    return structure(cls, data, source=str(source))
