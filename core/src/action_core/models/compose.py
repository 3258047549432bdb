"""Models composed from registered parts, as MMAction2 configs compose them.

A composed description is a mapping with a registered model ``type`` (a composite such as ``Recognizer2D``,
or any registered model) and its arguments; an argument named after a part (``backbone``, ``neck``, ``head``,
and ``loss`` inside a head) whose value is a table with a ``type`` is first built from the registry's
components of that kind, whichever plugin provides them::

    {"type": "Recognizer2D", "num_segments": 8,
     "backbone": {"type": "resnet_tsm", "depth": 50, "num_segments": 8},
     "head": {"type": "tsm_head", "num_classes": 400, "in_channels": 2048, "num_segments": 8},
     "weights": "tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb"}

``weights`` (with ``weights_backbone_only`` and ``weights_converter``, a registered converter name that
spares guessing) at the top are loaded with :func:`~action_core.models.loading.load_weights` once the model
is built. A registered model builder may
declare an ``expand`` function (its registration field) that returns this description for its keyword
arguments: ``action-run config show NAME --expand`` prints it, and the builder builds through it.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping
from typing import Any

from torch import nn

from action_core.errors import ConfigError, RegistryError

__all__ = ["PART_KINDS", "compose_model", "expand_model", "without_downloads"]

PART_KINDS: dict[str, str] = {"backbone": "backbone", "neck": "neck", "head": "head", "loss": "loss"}
"""Argument names built from registered components, and the component kind each is looked up in."""

_INIT_KEYS = ("weights", "weights_backbone_only", "weights_converter")


def _registry() -> Any:
    from action_core.plugins.host import get_registry

    return get_registry()


def _is_part(key: str, value: Any) -> bool:
    return key in PART_KINDS and isinstance(value, Mapping) and "type" in value


def _entry(kind: str, name: Any, where: str) -> Any:
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.type = {name!r} must name a registered {kind}")
    try:
        return _registry().get(kind, name)
    except RegistryError as e:
        installed = ", ".join(_registry().names(kind)) or "none"
        raise ConfigError(f"{where}.type = {name!r}: {e} Installed {kind}s: {installed}") from e


def _call(entry: Any, kwargs: Mapping[str, Any], where: str) -> Any:
    builder = entry.load()
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        unknown = [k for k in kwargs if k not in signature.parameters and not accepts_any]
        if unknown:
            known = (
                ", ".join(n for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY) or "none"
            )
            raise ConfigError(
                f"{where}: {entry.kind} {entry.name!r} takes no argument(s) {', '.join(unknown)} "
                f"(it takes: {known})"
            )
    try:
        return builder(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: building {entry.kind} {entry.name!r} failed: {e}") from e


def _build_part(kind: str, table: Mapping[str, Any], where: str) -> nn.Module:
    table = dict(table)
    name = table.pop("type")
    entry = _entry(kind, name, where)
    kwargs = {
        key: _build_part(PART_KINDS[key], value, f"{where}.{key}") if _is_part(key, value) else value
        for key, value in table.items()
    }
    return _module(_call(entry, kwargs, where), kind, name)


def _module(built: Any, kind: str, name: str) -> nn.Module:
    if not isinstance(built, nn.Module):
        raise ConfigError(f"{kind} {name!r} built a {type(built).__name__}, not a torch.nn.Module")
    return built


def compose_model(
    description: Mapping[str, Any], *, num_classes: int | None = None, where: str = "model"
) -> nn.Module:
    """Build the model a composed description names (see the module docstring).

    ``num_classes``, when given, goes to the head (unless its table sets it) or, for a model without a head
    table, to the model builder. Errors name the dotted key (``model.backbone.type``), the component kind and
    the installed alternatives.
    """
    weights_source = description.get("weights")
    spec = copy.deepcopy({k: v for k, v in description.items() if k != "weights"})
    if weights_source is not None:
        spec["weights"] = weights_source  # a loaded checkpoint mapping is used as it is, not copied
    if "type" not in spec:
        raise ConfigError(f"{where} has no 'type': name a registered model or composite (e.g. Recognizer2D)")
    name = spec.pop("type")
    init = {k: spec.pop(k) for k in _INIT_KEYS if k in spec}
    if num_classes is not None:
        head = spec.get("head")
        if isinstance(head, Mapping) and "type" in head:
            spec["head"] = {**head, "num_classes": head.get("num_classes", num_classes)}
            if head.get("num_classes", num_classes) != num_classes:
                raise ConfigError(
                    f"{where}.num_classes = {num_classes} but {where}.head.num_classes = {head['num_classes']}"
                )
        else:
            spec.setdefault("num_classes", num_classes)
    entry = _entry("model", name, where)
    kwargs = {
        key: _build_part(PART_KINDS[key], value, f"{where}.{key}") if _is_part(key, value) else value
        for key, value in spec.items()
    }
    model = _module(_call(entry, kwargs, where), "model", str(name))
    if init.get("weights") is not None:
        from action_core.models.loading import load_weights

        report = load_weights(
            model,
            init["weights"],
            converter=init.get("weights_converter"),
            backbone_only=bool(init.get("weights_backbone_only", False)),
        )
        vars(model)["weights_report"] = report  # what loading found, key by key
    return model


def expand_model(name: str, **kwargs: Any) -> dict[str, Any]:
    """The composed description of registered model ``name`` built with ``kwargs``: its ``expand``
    function's result, or, for a model that is not composed of parts, ``{"type": name, **kwargs}``."""
    entry = _registry().get("model", name)
    target = getattr(entry.spec, "expand", "")
    if not target:
        return {"type": name, **kwargs}
    from action_core.registry import import_target

    expand = import_target(target)
    try:
        return dict(expand(**kwargs))
    except TypeError as e:
        try:
            known = ", ".join(inspect.signature(expand).parameters)
        except (TypeError, ValueError):
            known = "?"
        raise ConfigError(
            f"model {name!r} cannot be built with {sorted(kwargs)}: {e}. Its arguments: {known}"
        ) from e


def without_downloads(value: Any) -> Any:
    """A copy of a description with ``pretrained`` off and ``weights`` removed everywhere: the model with
    random weights, for counting and timing (nothing fetched)."""
    if isinstance(value, Mapping):
        return {
            k: False if k == "pretrained" else without_downloads(v)
            for k, v in value.items()
            if k != "weights"
        }
    if isinstance(value, list):
        return [without_downloads(v) for v in value]
    return value
