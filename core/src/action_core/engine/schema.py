"""Typed experiment configuration: the attrs classes behind an experiment's TOML file.

The layout mirrors the TOML tables one to one (``[model]``, ``[data]``, ``[data.train]``, ``[optim]``,
``[schedule]``, ``[train]``, ``[test]``). :meth:`ExperimentConfig.from_dict` checks every key and value and
names the dotted path of anything wrong; :meth:`ExperimentConfig.to_dict` gives back plain data (``None``
values left out, since TOML has no null) that round-trips through TOML.
"""

from __future__ import annotations

import re
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


def _flag_or_auto(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool) and value != "auto":
        raise ConfigError(
            f'{_where(instance, attribute)} = {value!r} is not allowed; choose true, false or "auto"'
        )


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


_FREEZE = re.compile(r"^(backbone|stages\s*<=\s*\d+)$")


def _freeze_spec(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and not _FREEZE.match(value.strip()):
        raise ConfigError(
            f'{_where(instance, attribute)} = {value!r} is not allowed; use "backbone" or "stages<=N" '
            "(the backbone's stem and first N stages)"
        )


def _part_table(instance: Any, attribute: attrs.Attribute, value: dict[str, Any] | None) -> None:
    if value is None:
        return
    if not isinstance(value.get("type"), str) or not value["type"]:
        raise ConfigError(
            f"model.{attribute.name} needs a 'type' naming a registered {attribute.name} "
            f'(`action-run list {attribute.name}s`), e.g. [model.{attribute.name}] type = "..."'
        )


@attrs.define(kw_only=True)
class ModelConfig:
    """``[model]``: a registered model and the keyword arguments (``args``) it is built with.

    A composite (``type = "Recognizer2D"``, ``"Recognizer3D"``, ...) takes its parts as tables:
    ``[model.backbone]``, optional ``[model.neck]`` and ``[model.head]`` (with an optional
    ``[model.head.loss]``), each a registered component ``type`` plus its arguments.
    """

    type: str = attrs.field(validator=_non_empty)
    num_classes: int = attrs.field(validator=_in_range(1))
    args: dict[str, Any] = attrs.field(factory=dict)
    backbone: dict[str, Any] | None = attrs.field(default=None, validator=_part_table)
    neck: dict[str, Any] | None = attrs.field(default=None, validator=_part_table)
    head: dict[str, Any] | None = attrs.field(default=None, validator=_part_table)

    @property
    def composed(self) -> bool:
        """True when the model is given as parts (backbone / neck / head tables)."""
        return any(t is not None for t in (self.backbone, self.neck, self.head))

    def description(self) -> dict[str, Any]:
        """The composed description :func:`action_core.models.compose.compose_model` builds."""
        parts = {k: getattr(self, k) for k in ("backbone", "neck", "head") if getattr(self, k) is not None}
        return {"type": self.type, **self.args, **parts}


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
    """``[optim]``: SGD with momentum or AdamW; ``grad_clip`` is a max L2 norm, ``None`` for no clipping.

    ``backbone_lr_mult`` scales the learning rate of the model's backbone (MMAction2's ``paramwise_cfg``
    ``custom_keys={"backbone": {"lr_mult": ...}}``): fine-tuning keeps learned features with a small
    factor while the re-initialised head learns at ``lr``.
    """

    type: str = attrs.field(default="sgd", validator=_one_of("sgd", "adam", "adamw"))
    lr: float = attrs.field(default=0.01, validator=_in_range(0.0, low_open=True))
    backbone_lr_mult: float = attrs.field(default=1.0, validator=_in_range(0.0, low_open=True))
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
    in the training process, and in ``test``, ``predict`` and the Inferencer (glibc keeps freed activations
    for reuse instead of page-faulting them in anew every step or batch).

    ``amp``, ``channels_last`` and ``compile`` default to ``"auto"``: the setting measured fastest on the
    device the run uses (:mod:`action_core.hardware`; bf16 only where the hardware computes it natively),
    logged once with the reason. A value given by hand is kept, with a warning where it was measured slower.

    Fine-tuning: ``load_from`` names the weights the model starts from (a training checkpoint, a published
    checkpoint name, an MMAction2 / PyTorchVideo / torchvision file or URL, through the registered
    converters); a head whose class count differs is re-initialised. ``freeze`` keeps part of the model
    fixed: ``"backbone"`` or ``"stages<=N"`` (the backbone's stem and its first N stages), in a resumed
    run too; ``load_from`` applies to a fresh run only (a resumed run continues from its checkpoint).
    ``keep_ckpts``: how many ``epoch_N.pth`` files stay (the newest; -1 keeps all); ``last.pth`` and ``best.pth`` always stay.
    """

    val_interval: int = attrs.field(default=1, validator=_in_range(0))
    ckpt_interval: int = attrs.field(default=1, validator=_in_range(0))
    keep_ckpts: int = attrs.field(default=2, validator=_in_range(-1))
    load_from: str | None = None
    freeze: str | None = attrs.field(default=None, validator=_freeze_spec)
    ckpt_interval_iters: int = attrs.field(default=0, validator=_in_range(0))
    best_metric: str = attrs.field(default="top1", validator=_non_empty)
    amp: str = attrs.field(default="auto", validator=_one_of("auto", "none", "bf16", "fp16"))
    channels_last: bool | str = attrs.field(default="auto", validator=_flag_or_auto)
    compile: bool | str = attrs.field(default="auto", validator=_flag_or_auto)
    seed: int = 0
    log_interval: int = attrs.field(default=20, validator=_in_range(1))
    sync_bn: bool = False
    tune_memory: bool = True


@attrs.define(kw_only=True)
class TestConfig:
    """``[test]``: how per-view predictions are averaged and which metrics are reported.

    ``metrics = []`` is for a model whose predictions have no metric of their own (an intermediate stage,
    such as BSN's TEM): testing then only counts the samples.

    ``fold_bn`` folds every batch norm that directly follows a convolution into it for testing and batch
    prediction (:mod:`action_core.models.fuse`; checked against the eager model on the first sample,
    refused with a warning where they differ). Testing also takes ``train.amp`` / ``train.channels_last`` /
    ``train.compile`` (``"auto"``: what is fast on the device, :mod:`action_core.hardware`).
    """

    __test__ = False  # not a pytest test class despite its name

    average: str = attrs.field(default="score", validator=_one_of("score", "prob"))
    metrics: list[str] = attrs.field(factory=lambda: ["top1", "top5", "mean_class_accuracy"])
    fold_bn: bool = True


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
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> ExperimentConfig:
        """Build and validate a config from plain data (a parsed TOML file); errors name the dotted key."""
        from action_core.config import structure

        return structure(cls, data, source=source)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dicts/lists/scalars, ``None`` values left out, ready for ``tomli_w.dumps``."""
        from action_core.config import unstructure

        return unstructure(self)
