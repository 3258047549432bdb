"""Typed experiment configuration: the attrs classes behind an experiment's TOML file.

The layout mirrors the TOML tables one to one (``[model]``, ``[data]``, ``[data.train]``, ``[optim]``,
``[schedule]``, ``[train]``, ``[test]``). :meth:`ExperimentConfig.from_dict` checks every key and value and
names the dotted path of anything wrong; :meth:`ExperimentConfig.to_dict` gives back plain data (``None``
values left out, since TOML has no null) that round-trips through TOML.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from action_core.errors import ConfigError

__all__ = [
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OptimConfig",
    "ScheduleConfig",
    "SplitConfig",
    "TestConfig",
    "TrainConfig",
]

T = TypeVar("T")


def _one_of(*choices: str) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise ConfigError(
                f"{_where(instance, attribute)} = {value!r} is not allowed; choose one of {', '.join(choices)}"
            )

    return check


def _in_range(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None:
            return
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            left = "(" if low_open else "["
            right = ")" if high_open else "]"
            span = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
            raise ConfigError(
                f"{_where(instance, attribute)} = {value!r} is out of range; it must be in {span}"
            )

    return check


def _non_empty(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not value:
        raise ConfigError(f"{_where(instance, attribute)} must not be empty")


_SECTION = {
    "ModelConfig": "model",
    "DataConfig": "data",
    "SplitConfig": "data.<split>",
    "OptimConfig": "optim",
    "ScheduleConfig": "schedule",
    "TrainConfig": "train",
    "TestConfig": "test",
    "ExperimentConfig": "",
}


def _where(instance: Any, attribute: attrs.Attribute) -> str:
    section = _SECTION.get(type(instance).__name__, type(instance).__name__)
    return f"{section}.{attribute.name}" if section else attribute.name


def _check_pipeline(instance: Any, attribute: attrs.Attribute, value: list[dict[str, Any]]) -> None:
    for position, step in enumerate(value):
        if not isinstance(step, Mapping) or not isinstance(step.get("type"), str) or not step["type"]:
            raise ConfigError(
                f"{_where(instance, attribute)}[{position}] = {step!r} is not a pipeline step; "
                'write each step as a table with a "type" key, e.g. {type = "Resize", scale = [-1, 256]}'
            )


@attrs.define(kw_only=True)
class ModelConfig:
    """``[model]``: a registered model builder and the keyword arguments it is called with."""

    type: str = attrs.field(validator=_non_empty)
    num_classes: int = attrs.field(validator=_in_range(1))
    args: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class SplitConfig:
    """``[data.train]`` / ``[data.val]`` / ``[data.test]``: which split, its pipeline, extra dataset args."""

    split: str = attrs.field(validator=_non_empty)
    pipeline: list[dict[str, Any]] = attrs.field(factory=list, validator=_check_pipeline)
    args: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class DataConfig:
    """``[data]``: a registered dataset builder, its root, the per-process batch size and loader workers."""

    dataset: str = attrs.field(validator=_non_empty)
    root: str = ""
    batch_size: int = attrs.field(default=8, validator=_in_range(1))
    workers: int = attrs.field(default=2, validator=_in_range(0))
    train: SplitConfig = attrs.field(factory=lambda: SplitConfig(split="train"))
    val: SplitConfig = attrs.field(factory=lambda: SplitConfig(split="val"))
    test: SplitConfig = attrs.field(factory=lambda: SplitConfig(split="test"))


@attrs.define(kw_only=True)
class OptimConfig:
    """``[optim]``: SGD with momentum or AdamW; ``grad_clip`` is a max L2 norm, ``None`` for no clipping."""

    type: str = attrs.field(default="sgd", validator=_one_of("sgd", "adam", "adamw"))
    lr: float = attrs.field(default=0.01, validator=_in_range(0.0, low_open=True))
    momentum: float = attrs.field(default=0.9, validator=_in_range(0.0, 1.0, high_open=True))
    weight_decay: float = attrs.field(default=1e-4, validator=_in_range(0.0))
    no_decay_norm_bias: bool = False
    grad_clip: float | None = attrs.field(default=None, validator=_in_range(0.0, low_open=True))


@attrs.define(kw_only=True)
class ScheduleConfig:
    """``[schedule]``: epochs and the learning-rate policy, stepped every iteration.

    ``step`` multiplies the rate by ``gamma`` every ``step_size`` epochs, ``multistep`` at each epoch in
    ``milestones``, ``cosine`` anneals from ``optim.lr`` to ``min_lr`` over the run. A linear warmup of
    ``warmup_epochs`` (fractions allowed) ramps the rate up from near zero first.
    """

    epochs: int = attrs.field(default=1, validator=_in_range(1))
    policy: str = attrs.field(default="multistep", validator=_one_of("step", "multistep", "cosine"))
    milestones: list[int] = attrs.field(factory=list)
    gamma: float = attrs.field(default=0.1, validator=_in_range(0.0, 1.0, low_open=True))
    step_size: int | None = attrs.field(default=None, validator=_in_range(1))
    min_lr: float = attrs.field(default=0.0, validator=_in_range(0.0))
    warmup_epochs: float = attrs.field(default=0.0, validator=_in_range(0.0))

    def __attrs_post_init__(self) -> None:
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:], strict=False)):
            raise ConfigError(f"schedule.milestones = {self.milestones!r} must be strictly increasing")
        if any(m < 1 for m in self.milestones):
            raise ConfigError(f"schedule.milestones = {self.milestones!r} must be epochs >= 1")
        if self.policy == "step" and self.step_size is None:
            raise ConfigError('schedule.policy = "step" needs schedule.step_size (decay every N epochs)')
        if self.warmup_epochs >= self.epochs:
            raise ConfigError(
                f"schedule.warmup_epochs = {self.warmup_epochs!r} must be smaller than "
                f"schedule.epochs = {self.epochs!r}"
            )


@attrs.define(kw_only=True)
class TrainConfig:
    """``[train]``: validation/checkpoint cadence, best-checkpoint metric, precision and run options.

    ``val_interval`` / ``ckpt_interval`` are in epochs (0 turns them off; ``last.pth`` is written every
    epoch regardless), ``ckpt_interval_iters`` additionally refreshes ``last.pth`` every N iterations so a
    killed run loses at most N iterations. ``tune_memory`` applies ``action_core.data.keep_freed_memory``
    in the training process (glibc keeps freed activations for reuse instead of page-faulting them in
    anew every step).
    """

    val_interval: int = attrs.field(default=1, validator=_in_range(0))
    ckpt_interval: int = attrs.field(default=1, validator=_in_range(0))
    ckpt_interval_iters: int = attrs.field(default=0, validator=_in_range(0))
    best_metric: str = attrs.field(default="top1", validator=_non_empty)
    amp: str = attrs.field(default="none", validator=_one_of("none", "bf16", "fp16"))
    channels_last: bool = False
    compile: bool = False
    seed: int = 0
    log_interval: int = attrs.field(default=20, validator=_in_range(1))
    sync_bn: bool = False
    tune_memory: bool = True


@attrs.define(kw_only=True)
class TestConfig:
    """``[test]``: how per-view predictions are averaged and which metrics are reported."""

    __test__ = False  # not a pytest test class despite its name

    average: str = attrs.field(default="score", validator=_one_of("score", "prob"))
    metrics: list[str] = attrs.field(
        factory=lambda: ["top1", "top5", "mean_class_accuracy"], validator=_non_empty
    )


@attrs.define(kw_only=True)
class ExperimentConfig:
    """A whole experiment: model, data, optimiser, schedule, training and testing options."""

    model: ModelConfig
    data: DataConfig
    optim: OptimConfig = attrs.field(factory=OptimConfig)
    schedule: ScheduleConfig = attrs.field(factory=ScheduleConfig)
    train: TrainConfig = attrs.field(factory=TrainConfig)
    test: TestConfig = attrs.field(factory=TestConfig)

    def __attrs_post_init__(self) -> None:
        if any(m > self.schedule.epochs for m in self.schedule.milestones):
            raise ConfigError(
                f"schedule.milestones = {self.schedule.milestones!r} has epochs beyond "
                f"schedule.epochs = {self.schedule.epochs}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentConfig:
        """Build and validate a config from plain data (a parsed TOML file); errors name the dotted key."""
        return _structure(cls, data, "")

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dicts/lists/scalars, ``None`` values left out, ready for ``tomli_w.dumps``."""
        return _unstructure(self)


def _unstructure(value: Any) -> Any:
    if attrs.has(type(value)):
        out = {}
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            if item is not None:
                out[field.name] = _unstructure(item)
        return out
    if isinstance(value, Mapping):
        return {str(k): _unstructure(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_unstructure(v) for v in value]
    return value


def _structure(cls: type[T], data: Any, path: str) -> T:
    label = path or "the experiment config"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{label} must be a table (mapping), got {type(data).__name__} {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in attrs.fields(cls)}
    unknown = [key for key in data if key not in fields]
    if unknown:
        where = ", ".join(f"{path}.{k}" if path else str(k) for k in unknown)
        raise ConfigError(f"unknown key {where} in {label}; known keys: {', '.join(fields)}")
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        key_path = f"{path}.{name}" if path else name
        if name not in data:
            if field.default is attrs.NOTHING:
                raise ConfigError(f"missing required key {key_path}")
            continue
        kwargs[name] = _convert(hints[name], data[name], key_path)
    try:
        return cls(**kwargs)
    except ConfigError as e:
        if cls is SplitConfig:
            raise ConfigError(str(e).replace("data.<split>", path)) from e
        raise
    except TypeError as e:
        raise ConfigError(f"{label}: {e}") from e


def _convert(hint: Any, value: Any, path: str) -> Any:
    if attrs.has(hint):
        return _structure(hint, value, path)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path} = {value!r} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path} = {value!r} must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path} = {value!r} must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path} = {value!r} must be a string")
        return value
    if origin is list:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path} = {value!r} must be a list")
        (inner,) = args
        return [_convert(inner, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path} = {value!r} must be a table (mapping)")
        return {str(k): _plain(v) for k, v in value.items()}
    raise ConfigError(f"{path}: cannot read a value of type {hint!r}")  # pragma: no cover - schema bug


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
