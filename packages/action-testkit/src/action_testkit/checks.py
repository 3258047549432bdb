"""The checks behind ``action-run plugins validate NAME``.

Every converter is called with a checkpoint holding one key no rule maps (it must return ``(state_dict,
unconverted_keys)`` and account for that key) and with
a checkpoint file that holds a pickled object whose unpickling would create a file: it must refuse it.
Models registered with ``params`` are built with ``params_for`` on the meta device and counted.

Model metadata the checks use (all optional, given to ``register(...)``):

``example_kwargs``
    small builder arguments (``{"num_classes": 5, "depth": 18}``) for a cheap build;
``example_input``
    the shape of one input batch for a tiny forward, e.g. ``(2, 8, 3, 32, 32)``;
``example_output``
    the expected output shape, defaults to ``(N, num_classes)``; for a model returning a tuple of tensors
    (a localizer), the list of their shapes.

Dataset metadata: ``example = "pkg.module:function"``, a function ``(tmp_dir: Path) -> dict`` returning
the keyword arguments of the dataset builder for a tiny instance it creates in ``tmp_dir``.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from action_core.api import (
    ALL_HOOKS,
    Entry,
    PluginHost,
    check_api_version,
    check_core_requirement,
    import_target,
    plugin_host,
    unknown_hooks,
)

KEYWORD_ONLY_KINDS = ("model", "backbone", "neck", "head")


@attrs.define
class CheckResult:
    """One check: ``ok``, ``fail`` or ``warn`` (a warning does not fail validation)."""

    name: str
    status: str
    detail: str = ""


@attrs.define
class Report:
    """All checks of one plugin."""

    plugin: str
    results: list[CheckResult] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return all(r.status != "fail" for r in self.results)

    def add(self, name: str, status: str, detail: str = "") -> None:
        """Record one result."""
        self.results.append(CheckResult(name, status, detail))

    def render(self) -> str:
        """Human-readable report, one line per check and a verdict."""
        lines = [f"conformance of plugin {self.plugin!r}:"]
        for r in self.results:
            mark = {"ok": "PASS", "fail": "FAIL", "warn": "WARN"}[r.status]
            lines.append(f"  {mark}  {r.name}" + (f": {r.detail}" if r.detail else ""))
        failed = sum(r.status == "fail" for r in self.results)
        lines.append("valid" if self.ok else f"INVALID: {failed} check(s) failed")
        return "\n".join(lines)


def _run(report: Report, name: str, func: Callable[[], str | None]) -> bool:
    try:
        detail = func()
    except Exception as e:  # every failure becomes a line of the report
        report.add(name, "fail", f"{type(e).__name__}: {e}")
        return False
    if detail and detail.startswith("warn:"):
        report.add(name, "warn", detail[5:].strip())
    else:
        report.add(name, "ok", detail or "")
    return True


def imports_torch(module: str) -> bool:
    """Whether importing ``module`` in a fresh interpreter imports torch."""
    code = f"import importlib, sys; importlib.import_module({module!r}); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"importing {module!r} failed:\n{out.stderr.strip()[-2000:]}")
    return out.stdout.strip().endswith("True")


def validate_plugin(name: str, *, build: bool = True) -> Report:
    """Run every conformance check against the installed plugin ``name``."""
    # presets and datasets resolve names through the process-wide host
    with plugin_host(autoload=False, strict=False) as host:
        return _validate(host, name, build)


def _validate(host: PluginHost, name: str, build: bool) -> Report:
    report = Report(name)
    info = host.plugins.get(name)
    if info is None:
        report.add("entry point", "fail", f"no plugin {name!r} in entry-point group 'action.plugins'")
        return report
    report.add("entry point", "ok", f"{info.name} = {info.module} ({info.distribution} {info.version})")

    def core_req() -> str | None:
        problem = check_core_requirement(info)
        if problem:
            raise RuntimeError(problem)
        if not info.requires_core:
            return (
                "warn: the distribution declares no action-core requirement; add e.g. 'action-core>=0.1,<0.2'"
            )
        return f"action-core{info.requires_core}"

    _run(report, "core requirement", core_req)

    def api() -> str | None:
        declared = getattr(importlib.import_module(info.module), "ACTION_PLUGIN_API", None)
        error, warning = check_api_version(declared)
        if error:
            raise RuntimeError(error)
        return f"warn: {warning}" if warning else f"ACTION_PLUGIN_API = {declared}"

    if not _run(report, "plugin API version", api):
        return report
    _run(report, "hook names", lambda: _hook_names(importlib.import_module(info.module)))
    _run(report, "plugin module imports no torch", lambda: _no_torch(info.module))
    if not host.load_plugin(name):
        report.add("registration", "fail", info.reason)
        return report
    entries = [e for e in host.registry.entries() if e.plugin == name]
    report.add("registration", "ok", f"{len(entries)} component(s)")
    for entry in entries:
        _run(report, f"{entry.kind} {entry.name}: target resolves", lambda e=entry: _resolves(e))
        if entry.kind in KEYWORD_ONLY_KINDS:
            _run(report, f"{entry.kind} {entry.name}: keyword-only builder", lambda e=entry: _keyword_only(e))
        if entry.kind == "converter":
            _run(report, f"converter {entry.name}: follows the contract", lambda e=entry: _converter(e))
            _run(report, f"converter {entry.name}: refuses pickled code", lambda e=entry: _pickle_bomb(e))
        if not build:
            continue
        if entry.kind == "model":
            _run(report, f"model {entry.name}: builds and runs a tiny forward", lambda e=entry: _forward(e))
            if entry.spec.params is not None:
                _run(report, f"model {entry.name}: parameter count", lambda e=entry: _params(e))
        elif entry.kind == "dataset":
            _run(report, f"dataset {entry.name}: yields the sample schema", lambda e=entry: _dataset(e))
        elif entry.kind == "preset":
            _run(report, f"preset {entry.name}: valid experiment config", lambda e=entry: _preset(e))
    return report


def _hook_names(module: Any) -> str | None:
    unknown = unknown_hooks(module)
    if unknown:
        raise RuntimeError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a hook of the plugin API, so "
            f"never called; rename to one of: {', '.join(ALL_HOOKS)}"
        )
    return None


def _converter(entry: Entry) -> str | None:
    convert = entry.load()
    params = [
        p
        for p in inspect.signature(convert).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) != 1:
        raise RuntimeError(
            f"a converter is convert(checkpoint) -> (state_dict, unconverted_keys); {entry.target} takes "
            f"{len(params)} required positional parameters"
        )
    import torch

    result = convert({"state_dict": {"no_rule_maps_this.weight": torch.zeros(1)}})
    if not (
        isinstance(result, tuple)
        and len(result) == 2
        and isinstance(result[0], dict)
        and isinstance(result[1], (tuple, list))
    ):
        raise RuntimeError(
            f"it returned {type(result).__name__}; a converter returns (state_dict, unconverted_keys): the "
            "converted mapping and the source keys no rule mapped"
        )
    if not result[0] and not result[1]:
        raise RuntimeError("a key it cannot map vanished: report it in unconverted_keys, never drop it")
    return None


def _pickle_bomb(entry: Entry) -> str | None:
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "pickled-code-ran"
        bomb = Path(tmp) / "bomb.pth"
        torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Payload(str(marker))}, bomb)
        try:
            entry.load()(str(bomb))
        except Exception as e:  # refusing is the point; any clear error will do
            if marker.exists():
                raise RuntimeError("the converter unpickled code from the checkpoint and ran it") from e
            return f"refused: {type(e).__name__}"
        if marker.exists():
            raise RuntimeError("the converter unpickled code from the checkpoint and ran it")
        raise RuntimeError(
            "the converter accepted a checkpoint holding a pickled object; load files with "
            "action_core.api.load_checkpoint (weights_only)"
        )


class _Payload:
    """Unpickling this creates a file: a stand-in for a checkpoint that runs code when loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (Path(self.path),))


def _params(entry: Entry) -> str | None:
    import ast

    import torch

    kwargs: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in entry.spec.params_for.split(","))):
        key, _, value = part.partition("=")
        try:
            kwargs[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            kwargs[key.strip()] = value.strip()
    try:
        with torch.device("meta"):
            model = entry.load()(**kwargs)
    except Exception as e:
        return f"warn: could not build with {kwargs} on the meta device ({type(e).__name__}: {e})"
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if total != entry.spec.params:
        raise RuntimeError(
            f"built with {kwargs or 'defaults'} it has {total:,} parameters, registered {entry.spec.params:,}"
        )
    if entry.spec.trainable_params is not None and trainable != entry.spec.trainable_params:
        raise RuntimeError(f"{trainable:,} trainable parameters, registered {entry.spec.trainable_params:,}")
    return f"{total:,}"


def _no_torch(module: str) -> str | None:
    if imports_torch(module):
        raise RuntimeError(
            f"importing {module} imports torch; keep plugin.py to registrations with dotted targets so that "
            f"listing plugins stays fast"
        )
    return None


def _resolves(entry: Entry) -> str | None:
    if entry.kind == "preset":
        from action_core.api import load_preset

        load_preset(entry.qualified_name)
        return None
    entry.load()
    return None


def _keyword_only(entry: Entry) -> str | None:
    target = entry.load()
    if inspect.isclass(target):
        target = target.__init__
        params = list(inspect.signature(target).parameters.values())[1:]
    else:
        params = list(inspect.signature(target).parameters.values())
    positional = [
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if positional:
        raise RuntimeError(
            f"builder takes positional parameters {positional}; make them keyword-only (after `*`)"
        )
    return None


def _forward(entry: Entry) -> str | None:
    import torch

    kwargs = dict(entry.spec.example_kwargs)
    shape = entry.spec.example_input
    model = entry.load()(**kwargs)
    if not isinstance(model, torch.nn.Module):
        raise RuntimeError(f"builder returned {type(model).__name__}, not a torch.nn.Module")
    task = getattr(model, "task", "recognition")
    if task != entry.spec.task:
        raise RuntimeError(
            f"model.task is {task!r} (how the engine evaluates it), registered task={entry.spec.task!r}"
        )
    if shape is None:
        return "warn: no example_input metadata; forward not checked"
    declared = entry.spec.input_format
    if declared and getattr(model, "input_format", declared) != declared:
        raise RuntimeError(f"model.input_format is {model.input_format!r}, registered {declared!r}")
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(*shape))
    expected = entry.spec.example_output
    got = _shapes(out)
    if expected is None:
        if "num_classes" not in kwargs or isinstance(got, list):
            return f"warn: output {got}; give example_kwargs with num_classes or example_output to check it"
        expected = (shape[0], kwargs["num_classes"])
    expected = [tuple(s) for s in expected] if isinstance(got, list) else tuple(expected)
    if got != expected:
        raise RuntimeError(f"output shape {got} differs from the declared {expected}")
    return f"{tuple(shape)} -> {got}"


def _shapes(out: Any) -> tuple[int, ...] | list[tuple[int, ...]]:
    """The output's shape, or the list of shapes of a tuple of tensors (localizers return several maps)."""
    if isinstance(out, (tuple, list)):
        return [tuple(o.shape) for o in out]
    return tuple(out.shape)


def _dataset(entry: Entry) -> str | None:
    import torch

    example = entry.spec.example
    if not example:
        return "warn: no example metadata; dataset not exercised"
    with tempfile.TemporaryDirectory() as tmp:
        kwargs = import_target(example)(Path(tmp))
        dataset = entry.load()(**kwargs)
        for attr in ("classes", "multi_label"):
            if not hasattr(dataset, attr):
                raise RuntimeError(f"dataset has no {attr!r} attribute")
        item: Any = dataset[0]
        missing = {"inputs", "label", "index"} - set(item)
        if missing:
            raise RuntimeError(f"item lacks keys {sorted(missing)}; items are {{'inputs', 'label', 'index'}}")
        if not isinstance(item["inputs"], torch.Tensor) or not isinstance(item["label"], torch.Tensor):
            raise RuntimeError("item['inputs'] and item['label'] must be tensors")
        norm = item.get("norm")
        if norm is not None and (not isinstance(norm, torch.Tensor) or norm.ndim < 2 or norm.shape[0] != 2):
            raise RuntimeError(
                "item['norm'] (from Normalize(on_device=True)) must be a tensor (2, C, 1, ...) of mean and std"
            )
        return f"{len(dataset)} items, inputs {tuple(item['inputs'].shape)}"


def _preset(entry: Entry) -> str | None:
    from action_core.api import load_source, structure

    try:
        from action_core.api import ExperimentConfig
    except ImportError:
        load_source(entry.qualified_name)
        return "warn: action_core.engine.schema unavailable; preset parsed but not validated"
    structure(ExperimentConfig, load_source(entry.qualified_name), source=f"preset {entry.name}")
    return None
