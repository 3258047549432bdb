"""Optimiser construction (weight-decay exclusion) and the per-iteration learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch
from tinyparts import TinyRecognizer3D

from action_core.engine.builders import build_optimizer, build_scheduler, lr_factor
from action_core.engine.schema import OptimConfig, ScheduleConfig


def test_no_decay_norm_bias_puts_norm_and_bias_params_in_a_zero_decay_group() -> None:
    model = TinyRecognizer3D()
    plain = build_optimizer(model, OptimConfig(weight_decay=1e-3))
    assert len(plain.param_groups) == 1
    optimizer = build_optimizer(model, OptimConfig(weight_decay=1e-3, no_decay_norm_bias=True))
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 1e-3 and no_decay["weight_decay"] == 0.0
    bn = model.backbone[1]
    linear = model.head[1]
    ids = {id(p) for p in no_decay["params"]}
    assert ids == {id(bn.weight), id(bn.bias), id(linear.bias)}
    assert {id(p) for p in decay["params"]} == {id(model.backbone[0].weight), id(linear.weight)}


@pytest.mark.parametrize(("name", "cls"), [("adamw", torch.optim.AdamW), ("adam", torch.optim.Adam)])
def test_adam_family_is_built(name, cls) -> None:
    optimizer = build_optimizer(TinyRecognizer3D(), OptimConfig(type=name, lr=1e-3, weight_decay=0.05))
    assert type(optimizer) is cls
    assert optimizer.param_groups[0]["weight_decay"] == 0.05


def test_multistep_changes_at_epoch_boundaries_with_linear_warmup() -> None:
    schedule = ScheduleConfig(epochs=6, policy="multistep", milestones=[2, 4], gamma=0.1, warmup_epochs=1)
    ipe = 10
    factors = [lr_factor(i, schedule=schedule, base_lr=0.1, iters_per_epoch=ipe) for i in range(60)]
    assert factors[:10] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert factors[10:20] == pytest.approx([1.0] * 10)
    assert factors[20:40] == pytest.approx([0.1] * 20)
    assert factors[40:] == pytest.approx([0.01] * 20)


def test_step_and_cosine_policies() -> None:
    step = ScheduleConfig(epochs=6, policy="step", step_size=2, gamma=0.5)
    assert [
        lr_factor(e * 4, schedule=step, base_lr=1.0, iters_per_epoch=4) for e in range(6)
    ] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])
    cosine = ScheduleConfig(epochs=2, policy="cosine", min_lr=0.01)
    values = [lr_factor(i, schedule=cosine, base_lr=0.1, iters_per_epoch=5) for i in range(11)]
    assert values[0] == pytest.approx(1.0)
    assert values[5] == pytest.approx(0.1 + 0.9 * 0.5)  # halfway: (lr + min_lr) / 2, relative to lr
    assert values[10] == pytest.approx(0.1)  # min_lr / lr at the end
    assert all(a >= b for a, b in zip(values, values[1:]))
    mid = lr_factor(3, schedule=cosine, base_lr=0.1, iters_per_epoch=5)
    assert mid == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.3)))


def test_scheduler_steps_per_iteration_and_round_trips_its_state() -> None:
    model = TinyRecognizer3D()
    optimizer = build_optimizer(model, OptimConfig(lr=0.2))
    schedule = ScheduleConfig(epochs=3, policy="cosine", warmup_epochs=1)
    scheduler = build_scheduler(optimizer, schedule, base_lr=0.2, iters_per_epoch=4)
    seen = []
    for _ in range(7):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [0.2 * lr_factor(i, schedule=schedule, base_lr=0.2, iters_per_epoch=4) for i in range(7)]
    assert seen == pytest.approx(expected)
    state = scheduler.state_dict()
    other_opt = build_optimizer(TinyRecognizer3D(), OptimConfig(lr=0.2))
    other = build_scheduler(other_opt, schedule, base_lr=0.2, iters_per_epoch=4)
    other_opt.load_state_dict(optimizer.state_dict())
    other.load_state_dict(state)
    optimizer.step(), scheduler.step()
    other_opt.step(), other.step()
    assert other_opt.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"])
