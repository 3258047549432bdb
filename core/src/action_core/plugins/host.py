"""Plugin discovery, compatibility checks, lazy loading and isolation.

Discovery reads entry-point metadata only (group ``action.plugins``). A plugin module is imported when
it is asked for: by name, by ``--plugin``, or when a component that no loaded plugin provides is looked
up. Before import, the plugin distribution's declared ``action-core`` requirement is checked against the
running core; after import, its ``ACTION_PLUGIN_API`` against :data:`PLUGIN_API_VERSION`.

A plugin that fails any step is skipped with one line naming the plugin, its distribution and version,
the error and the fix; the host keeps working. Environment variables:

``ACTION_STRICT_PLUGINS=1``
    any plugin failure raises :class:`~action_core.errors.PluginError` (with the original traceback chained).
``ACTION_PLUGINS=a,b``
    allow-list: only these plugins are ever loaded (plus what they depend on).
``ACTION_DISABLE_PLUGINS=a,b``
    deny-list: these plugins are never loaded.
``ACTION_DISABLE_PLUGIN_AUTOLOAD=1``
    no plugin is loaded unless asked for by name (``--plugin NAME`` or :func:`load_plugin`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import traceback
import warnings
from collections.abc import Iterable, Iterator
from importlib import metadata
from types import ModuleType
from typing import Any

import attrs
import pluggy

from action_core.errors import PluginError, RegistryError
from action_core.plugins import hookspecs
from action_core.plugins.hookspecs import PLUGIN_API_VERSION, PROJECT_NAME, REGISTRATION_HOOKS
from action_core.plugins.specs import make_spec
from action_core.registry import Entry, Registry

ENTRY_POINT_GROUP = "action.plugins"
CORE_DISTRIBUTION = "action-core"

log = logging.getLogger("action_core.plugins")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@attrs.define
class PluginInfo:
    """What is known about one installed plugin, from metadata and (once loaded) from its module."""

    name: str
    module: str
    distribution: str
    version: str
    requires_core: str | None = None
    requires_plugins: tuple[str, ...] = ()
    status: str = "not loaded"  # not loaded | loaded | skipped | disabled
    reason: str = ""
    api_version: str | None = None
    entry_point: metadata.EntryPoint | None = attrs.field(default=None, repr=False, eq=False)

    def describe(self) -> str:
        """``tsm (action-tsm 0.1.0)``."""
        return f"{self.name} ({self.distribution} {self.version})"


def unknown_hooks(module: ModuleType) -> list[str]:
    """Names in a plugin module that look like hook implementations (``action_*`` functions, or anything
    marked with ``@hookimpl``) but are not hooks of the plugin API: usually a misspelled hook name."""
    marker = f"{PROJECT_NAME}_impl"
    found = []
    for attr, value in vars(module).items():
        if not callable(value) or attr in hookspecs.ALL_HOOKS:
            continue
        if attr.startswith("action_") or hasattr(value, marker):
            found.append(attr)
    return sorted(found)


def core_version() -> str:
    """The installed action-core version (``0+unknown`` when running from a source tree)."""
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*(?:;(.*))?$"
)


def _requirements_of(dist: metadata.Distribution | None) -> list[tuple[str, str]]:
    """(canonical name, specifier) of a distribution's unconditional requirements.

    A regular expression rather than ``packaging`` keeps ``action-run plugins`` fast; requirements with
    an environment marker (extras, platforms) are left out.
    """
    reqs: list[tuple[str, str]] = []
    if dist is None:
        return reqs
    for raw in dist.requires or []:
        match = _REQUIREMENT.match(raw)
        if match is None or (match.group(3) and match.group(3).strip()):
            continue
        reqs.append((_canonical(match.group(1)), match.group(2).strip().replace(" ", "")))
    return reqs


def discover() -> dict[str, PluginInfo]:
    """Installed plugins from entry-point metadata only; imports no plugin code."""
    found: dict[str, PluginInfo] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else "unknown"
        version = dist.version if dist is not None else "unknown"
        reqs = _requirements_of(dist)
        requires_core = next((spec for req, spec in reqs if req == CORE_DISTRIBUTION), None)
        requires_plugins = tuple(
            req for req, _ in reqs if req.startswith("action-") and req != CORE_DISTRIBUTION
        )
        info = PluginInfo(
            name=ep.name,
            module=ep.value.partition(":")[0],
            distribution=dist_name,
            version=version,
            requires_core=requires_core,
            requires_plugins=requires_plugins,
            entry_point=ep,
        )
        if ep.name in found:
            prev = found[ep.name]
            info.status, info.reason = (
                "skipped",
                f"plugin name {ep.name!r} is also used by {prev.distribution} {prev.version}; "
                f"uninstall one of the two distributions",
            )
            found[f"{ep.name}@{dist_name}"] = info
            continue
        found[ep.name] = info
    return dict(sorted(found.items()))


def check_core_requirement(info: PluginInfo, running: str | None = None) -> str | None:
    """Why the running core does not satisfy the plugin's declared requirement, or None if it does."""
    if not info.requires_core:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    running = running or core_version()
    try:
        version = Version(running)
        spec = SpecifierSet(info.requires_core)
    except (InvalidVersion, InvalidSpecifier):
        return None
    if spec.contains(version, prereleases=True):
        return None
    return (
        f"requires action-core{info.requires_core} but action-core {running} is installed; "
        f"install a {info.distribution} release built for action-core {running} or "
        f"`pip install 'action-core{info.requires_core}'`"
    )


def check_api_version(declared: Any) -> tuple[str | None, str | None]:
    """(error, warning) for a plugin's declared ``ACTION_PLUGIN_API`` against core's."""
    if declared is None:
        return (
            f"declares no ACTION_PLUGIN_API; add ACTION_PLUGIN_API = {PLUGIN_API_VERSION!r} to its plugin module",
            None,
        )
    try:
        major, minor = (int(p) for p in str(declared).split(".")[:2])
    except ValueError:
        return f"ACTION_PLUGIN_API {declared!r} is not of the form 'MAJOR.MINOR'", None
    core_major, core_minor = (int(p) for p in PLUGIN_API_VERSION.split("."))
    if major != core_major:
        newer = "core" if major < core_major else "the plugin"
        return (
            f"written for plugin API {declared} but action-core {core_version()} provides {PLUGIN_API_VERSION}; "
            f"{newer} is newer: upgrade {'the plugin' if newer == 'core' else 'action-core'}",
            None,
        )
    if minor > core_minor:
        return None, (
            f"written for plugin API {declared}, newer than action-core's {PLUGIN_API_VERSION}; "
            f"some features may be missing: upgrade action-core"
        )
    return None, None


class PluginHost:
    """Discovers, checks, loads and isolates plugins and fills the :class:`Registry`."""

    def __init__(self, *, autoload: bool | None = None, strict: bool | None = None) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.strict = _env_flag("ACTION_STRICT_PLUGINS") if strict is None else strict
        self.autoload = (not _env_flag("ACTION_DISABLE_PLUGIN_AUTOLOAD")) if autoload is None else autoload
        self.allow = _env_list("ACTION_PLUGINS")
        self.deny = _env_list("ACTION_DISABLE_PLUGINS") or set()
        self.registry = Registry(on_miss=self._load_remaining)
        self.plugins: dict[str, PluginInfo] = discover()
        self.modules: dict[str, ModuleType] = {}
        for info in self.plugins.values():
            if info.name in self.deny:
                info.status, info.reason = "disabled", "disabled by ACTION_DISABLE_PLUGINS"
            elif self.allow is not None and info.name not in self.allow:
                info.status, info.reason = "disabled", "not in ACTION_PLUGINS"
        from action_core.plugins import builtin

        self._register_module(
            "core", builtin, PluginInfo("core", builtin.__name__, CORE_DISTRIBUTION, core_version())
        )

    # -- loading ----------------------------------------------------------------------------------
    def restrict_to(self, names: Iterable[str]) -> None:
        """Load exactly these plugins (and the plugins their distributions depend on), nothing else."""
        wanted = list(names)
        for name in wanted:
            if name not in self.plugins:
                raise PluginError(self._unknown_plugin_message(name))
        self.autoload = False
        for name in wanted:
            self.load_plugin(name)

    def _unknown_plugin_message(self, name: str) -> str:
        from action_core.plugins.known import install_hint

        installed = ", ".join(self.plugins) or "none"
        hint = install_hint(name)
        msg = f"no plugin named {name!r} is installed (installed: {installed})."
        if hint:
            msg += f" To get it: {hint}"
        return msg

    def _load_remaining(self) -> bool:
        """Load every not-yet-loaded allowed plugin; True if anything new was loaded."""
        if not self.autoload:
            return False
        loaded_any = False
        for info in self.plugins.values():
            if info.status == "not loaded":
                loaded_any |= self.load_plugin(info.name)
        return loaded_any

    def load_all(self) -> None:
        """Load every installed, allowed plugin (used by listings)."""
        self._load_remaining()

    def load_plugin(self, name: str) -> bool:
        """Import, check and register one plugin; False (with the reason recorded) when it is skipped."""
        info = self.plugins.get(name)
        if info is None:
            raise PluginError(self._unknown_plugin_message(name))
        if info.status == "loaded":
            return True
        if info.status in {"skipped", "loading"} or name in self.deny:
            return False
        # a plugin left out by the ACTION_PLUGINS allow-list still loads when asked for by name
        info.status = "loading"
        for dep_dist in info.requires_plugins:
            for other in self.plugins.values():
                if _canonical(other.distribution) == dep_dist and other.status in {"not loaded", "disabled"}:
                    self.load_plugin(other.name)
        problem = check_core_requirement(info)
        if problem:
            return self._skip(info, problem, None)
        try:
            module = importlib.import_module(info.module)
        except Exception as e:
            return self._skip(info, f"import of {info.module!r} failed: {type(e).__name__}: {e}", e)
        error, warning = check_api_version(getattr(module, "ACTION_PLUGIN_API", None))
        info.api_version = getattr(module, "ACTION_PLUGIN_API", None)
        if error:
            return self._skip(info, error, None)
        if warning:
            warnings.warn(f"plugin {info.describe()}: {warning}", stacklevel=2)
        try:
            self._register_module(name, module, info)
        except Exception as e:
            return self._skip(info, f"registration failed: {type(e).__name__}: {e}", e)
        info.status, info.reason = "loaded", ""
        return True

    def _skip(self, info: PluginInfo, reason: str, exc: BaseException | None) -> bool:
        info.status, info.reason = "skipped", reason
        line = (
            f"plugin {info.name!r} ({info.distribution} {info.version}) skipped: {reason}. "
            f"Fix or upgrade {info.distribution}, or disable it with ACTION_DISABLE_PLUGINS={info.name}."
        )
        if self.strict:
            raise PluginError(line + " (ACTION_STRICT_PLUGINS=1 makes this fatal)") from exc
        log.warning(line)
        if exc is not None:
            log.debug("traceback of plugin %s:\n%s", info.name, "".join(traceback.format_exception(exc)))
        return False

    def _register_module(self, name: str, module: ModuleType, info: PluginInfo) -> None:
        """Register the module with pluggy and collect its components through its hook implementations;
        all-or-nothing."""
        unknown = unknown_hooks(module)
        if unknown:
            log.warning(
                "plugin %r (%s %s) defines %s, which is not a hook of the action plugin API (hooks: %s); "
                "it is ignored: fix the name",
                name,
                info.distribution,
                info.version,
                ", ".join(unknown),
                ", ".join(hookspecs.ALL_HOOKS),
            )
        self.pm.register(module, name=name)
        staged: list[Entry] = []
        others = [p for p in self.pm.get_plugins() if p is not module]
        try:
            for hook_name, kind in REGISTRATION_HOOKS.items():

                def register(
                    comp_name: str, target: str, *, summary: str = "", _kind: str = kind, **fields: Any
                ) -> None:
                    if not isinstance(comp_name, str) or not comp_name or ":" in comp_name:
                        raise RegistryError(
                            f"{_kind} name {comp_name!r} must be a non-empty string without ':'"
                        )
                    if not isinstance(target, str) or ":" not in target:
                        raise RegistryError(
                            f"{_kind} {comp_name!r}: target {target!r} must be a dotted 'package.module:attr' string"
                        )
                    spec = make_spec(_kind, comp_name, {"summary": summary, **fields})
                    staged.append(
                        Entry(_kind, comp_name, target, name, info.distribution, info.version, spec)
                    )

                # Through pluggy, restricted to this plugin: pluggy checks the arguments and runs wrappers.
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(register=register)
            for entry in staged:
                self.registry.add(entry)
        except BaseException:
            self.registry.remove_plugin(name)
            self.pm.unregister(module)
            raise
        self.modules[name] = module

    # -- run-time hooks ---------------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for the run-time hooks (``host.hook.action_on_log(...)``)."""
        return self.pm.hook

    def report(self) -> list[str]:
        """One line per plugin that was skipped or disabled."""
        return [
            f"{i.describe()}: {i.status}: {i.reason}"
            for i in self.plugins.values()
            if i.status in {"skipped", "disabled"}
        ]


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, created on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host(**kwargs: Any) -> PluginHost:
    """Create a fresh host (after installing plugins in-process, or in tests)."""
    global _HOST
    _HOST = PluginHost(**kwargs)
    return _HOST


@contextlib.contextmanager
def plugin_host(host: PluginHost | None = None, **kwargs: Any) -> Iterator[PluginHost]:
    """Make ``host`` (or a fresh ``PluginHost(**kwargs)``) the process-wide host inside a ``with`` block,
    restoring the previous one after it (the conformance kit and tests use it)."""
    global _HOST
    previous = _HOST
    _HOST = host if host is not None else PluginHost(**kwargs)
    try:
        yield _HOST
    finally:
        _HOST = previous


def get_registry() -> Registry:
    """The registry of the process-wide host."""
    return get_host().registry


def load_plugin(name: str) -> bool:
    """Load one plugin by name into the process-wide host."""
    return get_host().load_plugin(name)
