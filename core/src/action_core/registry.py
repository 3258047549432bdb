"""Named components of each kind, with the plugin that gave them.

A component is registered as a dotted target (``"action_tsm.models:tsm_r50"``) so that listing what
exists imports nothing. :meth:`Entry.load` imports the target when it is needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from action_core.errors import RegistryError
from action_core.plugins.known import install_hint
from action_core.plugins.specs import ComponentSpec

KINDS: tuple[str, ...] = (
    "model",
    "backbone",
    "neck",
    "head",
    "loss",
    "dataset",
    "transform",
    "metric",
    "preset",
    "converter",
    "command",
)


def normalize_kind(kind: str) -> str:
    """Accept ``models`` and ``losses`` as well as ``model`` and ``loss``; raise :class:`RegistryError` for an
    unknown kind."""
    k = kind.strip().lower()
    for plural in ("es", "s"):
        if k not in KINDS and k.endswith(plural) and k[: -len(plural)] in KINDS:
            k = k[: -len(plural)]
    if k not in KINDS:
        raise RegistryError(f"unknown component kind {kind!r}; kinds are: {', '.join(KINDS)}")
    return k


def import_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute."""
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise RegistryError(f"target {target!r} is not of the form 'package.module:attribute'")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as e:
            raise RegistryError(
                f"target {target!r}: module {module_name!r} has no attribute {attr_path!r}"
            ) from e
    return obj


@attrs.frozen
class Entry:
    """One registered component: its kind, name, dotted target, the plugin that gave it and its typed
    registration fields (``spec``, an instance of the kind's class in :mod:`action_core.plugins.specs`)."""

    kind: str
    name: str
    target: str
    plugin: str = "core"
    distribution: str = "action-core"
    version: str = ""
    spec: ComponentSpec = attrs.field(factory=ComponentSpec)

    @property
    def summary(self) -> str:
        """The one-line description given at registration."""
        return self.spec.summary

    @property
    def qualified_name(self) -> str:
        """``plugin:name``: unambiguous even when two plugins use the same name."""
        return f"{self.plugin}:{self.name}"

    def load(self) -> Any:
        """Import and return the target (a builder, a class, a mapping, a resource path...)."""
        if self.kind == "preset" and self.target.endswith((".toml", ".yaml", ".yml")):
            return self.target
        try:
            return import_target(self.target)
        except RegistryError:
            raise
        except Exception as e:
            raise RegistryError(
                f"{self.kind} {self.name!r} from plugin {self.plugin!r} ({self.distribution} {self.version}): "
                f"cannot import {self.target!r}: {type(e).__name__}: {e}. Reinstall {self.distribution} or "
                f"report it to its authors."
            ) from e


class Registry:
    """Components by kind and name.

    Two plugins may register the same name; a plain lookup of such a name is then an error that
    names both, and ``plugin:name`` picks one. A lookup that misses first asks ``on_miss`` (the
    plugin host loads the plugins it has not loaded yet) and then suggests close names and, for a
    first-party component that is not installed, the ``pip install`` to run.
    """

    def __init__(self, on_miss: Callable[[], bool] | None = None) -> None:
        self._entries: dict[str, dict[str, list[Entry]]] = {k: {} for k in KINDS}
        self._on_miss = on_miss

    def add(self, entry: Entry) -> None:
        """Add one entry; the same plugin registering the same name twice is an error."""
        kind = normalize_kind(entry.kind)
        same = self._entries[kind].setdefault(entry.name, [])
        for other in same:
            if other.plugin == entry.plugin:
                raise RegistryError(f"plugin {entry.plugin!r} registers {kind} {entry.name!r} twice")
        same.append(entry)

    def remove_plugin(self, plugin: str) -> None:
        """Drop every entry a plugin gave (used when its registration fails halfway)."""
        for by_name in self._entries.values():
            for name in list(by_name):
                by_name[name] = [e for e in by_name[name] if e.plugin != plugin]
                if not by_name[name]:
                    del by_name[name]

    def entries(self, kind: str | None = None) -> Iterator[Entry]:
        """All entries, or those of one kind, sorted by name."""
        kinds = KINDS if kind is None else (normalize_kind(kind),)
        for k in kinds:
            for name in sorted(self._entries[k]):
                yield from self._entries[k][name]

    def names(self, kind: str) -> list[str]:
        """Sorted names of one kind."""
        return sorted(self._entries[normalize_kind(kind)])

    def __contains__(self, key: tuple[str, str]) -> bool:
        """``("model", "tsm_r50") in registry``; like :meth:`get`, a miss first loads pending plugins."""
        kind, name = key
        kind = normalize_kind(kind)
        if self._find(kind, name) is not None:
            return True
        return self._on_miss is not None and self._on_miss() and self._find(kind, name) is not None

    def _find(self, kind: str, name: str) -> list[Entry] | None:
        plugin, sep, short = name.rpartition(":")
        if sep:
            found = [e for e in self._entries[kind].get(short, []) if e.plugin == plugin]
            return found or None
        return self._entries[kind].get(name) or None

    def get(self, kind: str, name: str) -> Entry:
        """The entry for ``name`` (or ``plugin:name``) of ``kind``; a clear error otherwise."""
        kind = normalize_kind(kind)
        found = self._find(kind, name)
        if found is None and self._on_miss is not None and self._on_miss():
            found = self._find(kind, name)
        if found is None:
            raise RegistryError(self._missing_message(kind, name))
        if len(found) > 1:
            who = ", ".join(f"{e.plugin!r} ({e.distribution} {e.version})" for e in found)
            choices = " or ".join(repr(e.qualified_name) for e in found)
            raise RegistryError(
                f"{kind} {name!r} is registered by several plugins: {who}. Use {choices}, "
                f"or disable one with ACTION_DISABLE_PLUGINS."
            )
        return found[0]

    def _missing_message(self, kind: str, name: str) -> str:
        import difflib

        msg = f"no {kind} {name!r}."
        close = difflib.get_close_matches(name, list(self._entries[kind]), n=3, cutoff=0.6)
        if close:
            origins = [f"{c!r} (plugin {self._entries[kind][c][0].plugin})" for c in close]
            msg += f" Did you mean {' or '.join(origins)}?"
        hint = install_hint(name)
        if hint:
            msg += f" It is provided by a first-party plugin that is not installed: {hint}"
        elif not close:
            known = ", ".join(sorted(self._entries[kind])[:12]) or "none"
            msg += f" Known {kind}s: {known}. `action-run list {kind}` shows them all."
        return msg

    def load(self, kind: str, name: str) -> Any:
        """Shortcut for ``get(kind, name).load()``."""
        return self.get(kind, name).load()
