"""Typed registration: the fields each kind of component may declare when a plugin registers it.

``register(name, target, *, summary="", **fields)`` checks ``fields`` against the kind's class below: a
misspelled or unknown field, or a value of the wrong type, fails registration with the field's name and
the names allowed, instead of being ignored. Every field has a consumer, named in its description.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from action_core.errors import RegistryError

__all__ = [
    "SPECS",
    "BackboneSpec",
    "CommandSpec",
    "ComponentSpec",
    "ConverterSpec",
    "DatasetSpec",
    "HeadSpec",
    "LossSpec",
    "MetricSpec",
    "ModelSpec",
    "NeckSpec",
    "PresetSpec",
    "TransformSpec",
    "make_spec",
]

Task = Literal["recognition", "localization"]
Shape = tuple[int, ...]


def _shape(value: Any) -> Shape | None:
    if value is None:
        return None
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not all(isinstance(v, int) for v in value)
    ):
        raise TypeError(f"a shape must be a sequence of integers, got {value!r}")
    return tuple(int(v) for v in value)


def _shapes(value: Any) -> Shape | tuple[Shape, ...] | None:
    """One shape, or several (a model returning a tuple of tensors)."""
    if value is None:
        return None
    if isinstance(value, Sequence) and value and all(isinstance(v, Sequence) for v in value):
        return tuple(_shape(v) or () for v in value)
    return _shape(value)


def _target(value: Any) -> str:
    if not isinstance(value, str) or (value and ":" not in value):
        raise TypeError(f"must be a dotted 'package.module:attribute' string, got {value!r}")
    return value


def _task(value: Any) -> Task:
    if value not in ("recognition", "localization"):
        raise TypeError(f"must be 'recognition' or 'localization', got {value!r}")
    return value  # type: ignore[no-any-return]


def _optional_int(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"must be an integer, got {value!r}")
    return value


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"must be a mapping, got {value!r}")
    return dict(value)


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"must be a name or a list of names, got {value!r}")
    return tuple(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"must be a string, got {value!r}")
    return value


@attrs.frozen(kw_only=True)
class ComponentSpec:
    """Fields every registration takes. ``summary``: one line for listings (``action-run list``)."""

    summary: str = attrs.field(default="", converter=_text)

    def fields(self) -> dict[str, Any]:
        """The fields given (those that differ from their defaults), for ``action-run info``."""
        out = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()
            if field.name != "summary" and value != default:
                out[field.name] = value
        return out


@attrs.frozen(kw_only=True)
class _Buildable(ComponentSpec):
    """Fields of components built by a keyword-only builder (models and their parts).

    ``example_kwargs``: small builder arguments for a cheap build (the conformance kit builds with them);
    ``example_input``: the input shape of one tiny forward; ``example_output``: its expected shape(s).
    """

    example_kwargs: dict[str, Any] = attrs.field(factory=dict, converter=_mapping)
    example_input: Shape | None = attrs.field(default=None, converter=_shape)
    example_output: Shape | tuple[Shape, ...] | None = attrs.field(default=None, converter=_shapes)


@attrs.frozen(kw_only=True)
class ModelSpec(_Buildable):
    """``action_register_models``.

    ``task``: what the model does, listed without importing it; the built model says the same in its
    ``task`` attribute, which picks how the engine evaluates it (:mod:`action_core.models.steps`; the
    conformance kit checks that the two agree).
    ``params``/``trainable_params``: parameter counts of the build with ``params_for`` (e.g.
    ``"num_classes=400"``); the conformance kit checks them, the model zoo page shows them.
    ``input_format``: the layout of one view (``NTCHW`` 2D, ``NCTHW`` 3D, ``NCT`` feature sequences); the
    kit checks the built model's ``input_format`` against it. ``expand``: dotted target of a function taking
    the builder's keyword arguments and returning the model composed from registered parts
    (``action-run config show NAME --expand``, and the builder itself builds through it). ``weights``: dotted
    target of a mapping of published checkpoint names to :class:`~action_core.models.weights.WeightsInfo`
    (``load_weights`` resolves those names; the model zoo lists them).
    """

    task: Task = attrs.field(default="recognition", converter=_task)
    params: int | None = attrs.field(default=None, converter=_optional_int)
    trainable_params: int | None = attrs.field(default=None, converter=_optional_int)
    params_for: str = attrs.field(default="", converter=_text)
    input_format: str = attrs.field(default="", converter=_text)
    expand: str = attrs.field(default="", converter=_target)
    weights: str = attrs.field(default="", converter=_target)


@attrs.frozen(kw_only=True)
class BackboneSpec(_Buildable):
    """``action_register_backbones``: a feature extractor usable as ``[model.backbone] type = NAME``."""


@attrs.frozen(kw_only=True)
class NeckSpec(_Buildable):
    """``action_register_necks``: a module between backbone and head, ``[model.neck] type = NAME``."""


@attrs.frozen(kw_only=True)
class HeadSpec(_Buildable):
    """``action_register_heads``: a classification or localization head, ``[model.head] type = NAME``."""


@attrs.frozen(kw_only=True)
class LossSpec(ComponentSpec):
    """``action_register_losses``: a loss module, ``[model.head.loss] type = NAME``."""


@attrs.frozen(kw_only=True)
class DatasetSpec(ComponentSpec):
    """``action_register_datasets``.

    ``task``: the samples it yields (recognition clips or localization features). ``num_classes`` and
    ``multi_label``: shown by ``action-run info`` and the model zoo, and used to fill ``model.num_classes``
    when a config built around the dataset leaves it out. ``example``: dotted target of
    ``(tmp_dir) -> builder kwargs`` for a tiny instance (the conformance kit builds and reads one).
    """

    task: Task = attrs.field(default="recognition", converter=_task)
    num_classes: int | None = attrs.field(default=None, converter=_optional_int)
    multi_label: bool = False
    example: str = attrs.field(default="", converter=_target)


@attrs.frozen(kw_only=True)
class TransformSpec(ComponentSpec):
    """``action_register_transforms``: a pipeline step (sampler, decoder, transform), ``{type = NAME}``."""


@attrs.frozen(kw_only=True)
class MetricSpec(ComponentSpec):
    """``action_register_metrics``: a metric class with ``update``, ``compute`` and ``reset``."""

    task: Task = attrs.field(default="recognition", converter=_task)


@attrs.frozen(kw_only=True)
class PresetSpec(ComponentSpec):
    """``action_register_presets``: a ready-to-run experiment. ``task`` (what its model does) and ``dataset``
    are shown by listings and the model zoo (every task trains and tests through the same engine); ``weights`` names the
    published checkpoint the preset reproduces (a name in a registered model's catalogue): the model zoo
    shows its published metrics and the command that tests it."""

    task: Task = attrs.field(default="recognition", converter=_task)
    dataset: str = attrs.field(default="", converter=_text)
    weights: str = attrs.field(default="", converter=_text)


@attrs.frozen(kw_only=True)
class ConverterSpec(ComponentSpec):
    """``action_register_converters``: ``convert(checkpoint) -> (state_dict, unconverted_keys)``.

    ``source``: who wrote the checkpoints it reads (``mmaction2``, ``pytorchvideo``, ``torchvision``...);
    ``models``: the registered models whose keys its output fits; ``model_args``: builder arguments those
    models need to fit it (e.g. ``{"lateral_norm": true}``). ``load_weights`` and ``action-run convert``
    pick converters by these fields.
    """

    source: str = attrs.field(converter=_text)
    models: tuple[str, ...] = attrs.field(factory=tuple, converter=_names)
    model_args: dict[str, Any] = attrs.field(factory=dict, converter=_mapping)


@attrs.frozen(kw_only=True)
class CommandSpec(ComponentSpec):
    """``action_register_commands``: an ``action-run`` subcommand, ``main(argv) -> int | None``."""


SPECS: dict[str, type[ComponentSpec]] = {
    "model": ModelSpec,
    "backbone": BackboneSpec,
    "neck": NeckSpec,
    "head": HeadSpec,
    "loss": LossSpec,
    "dataset": DatasetSpec,
    "transform": TransformSpec,
    "metric": MetricSpec,
    "preset": PresetSpec,
    "converter": ConverterSpec,
    "command": CommandSpec,
}
"""Component kind → the class of its registration fields."""


def allowed_fields(kind: str) -> list[str]:
    """Names of the fields a registration of ``kind`` may give."""
    return [f.name for f in attrs.fields(SPECS[kind])]


def make_spec(kind: str, name: str, fields: Mapping[str, Any]) -> ComponentSpec:
    """Check ``fields`` against the kind's spec; a clear :class:`RegistryError` names what is wrong."""
    cls = SPECS[kind]
    allowed = allowed_fields(kind)
    for key in fields:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RegistryError(
                f"{kind} {name!r}: unknown registration field {key!r}.{hint} A {kind} registration takes: "
                f"{', '.join(allowed)}"
            )
    missing = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING and f.name not in fields]
    if missing:
        raise RegistryError(f"{kind} {name!r}: registration needs field(s) {', '.join(missing)}")
    by_name = attrs.fields_dict(cls)
    for key, value in fields.items():
        convert = by_name[key].converter
        try:
            if callable(convert):
                convert(value)
            elif by_name[key].type in (bool, "bool") and not isinstance(value, bool):
                raise TypeError(f"must be true or false, got {value!r}")
        except (TypeError, ValueError) as e:
            raise RegistryError(f"{kind} {name!r}: field {key!r} {e}") from e
    return cls(**fields)
