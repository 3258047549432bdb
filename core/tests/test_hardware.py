"""Precision, memory format and compilation chosen per machine: bf16 only where the hardware computes it
natively, a warning with the measured slowdown where a slower setting is forced.

The tests marked ``no_native_bf16`` run the real detection on this machine (a CPU without AVX-512 BF16 / AMX)
and are skipped on one with native bf16; the decisions for other hardware are checked through the pure
``decide_*`` functions with explicit capabilities."""

from __future__ import annotations

import logging

import pytest
import torch

from action_core import hardware
from action_core.hardware import Capabilities, decide_amp, decide_channels_last, decide_compile

CPU = torch.device("cpu")

no_native_bf16 = pytest.mark.skipif(
    hardware.native_bf16(), reason="this CPU computes bf16 natively; the test is for CPUs that do not"
)


def test_this_machine_is_described() -> None:
    caps = hardware.capabilities(CPU)
    assert caps.device_type == "cpu" and caps.kind == hardware.cpu_kind() and caps.kind
    if {"avx512_bf16", "amx_bf16"} & hardware.cpu_flags():
        assert caps.native_bf16 and caps.kind in {"avx512_bf16", "amx"}
    elif "avx512f" in hardware.cpu_flags():
        assert caps.kind == "avx512"


@no_native_bf16
def test_auto_never_picks_bf16_on_this_cpu(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="action_core.hardware"):
        settings = hardware.choose_speed(CPU)
    assert settings.amp.value == "none" and settings.channels_last.value is False
    assert settings.compile.value is False
    lines = [r for r in caplog.records if r.name == "action_core.hardware"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO  # one line, no warning
    text = lines[0].getMessage()
    assert "amp=none (fp32; " in text and "no native bf16" in text and "channels_last=false (" in text
    assert hardware.choose_amp(CPU).value == "none"


@no_native_bf16
def test_forcing_bf16_or_channels_last_on_this_cpu_warns_with_the_slowdown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kind = hardware.cpu_kind()
    expected = hardware.BF16_EMULATED_SLOWDOWN.get(kind, hardware.BF16_EMULATED_SLOWDOWN["avx2"])
    with caplog.at_level(logging.INFO, logger="action_core.hardware"):
        settings = hardware.choose_speed(CPU, amp="bf16")
        assert settings.amp.value == "bf16"  # a forced value is kept
        settings = hardware.choose_speed(CPU, channels_last=True)
        assert settings.amp.value == "none" and settings.channels_last.value is True
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # channels-last for a 2D training step: measured slower on AVX2; on AVX-512 faster or slower by input size
    measured = {**hardware.CHANNELS_LAST_CPU_SPEEDUP, **hardware.CHANNELS_LAST_CPU_MIXED}.get(
        ("train", 2), {}
    )
    assert len(warnings) == (1 if kind in measured else 2)
    assert f"measured {expected:.1f}x slower than fp32" in warnings[0] and kind in warnings[0]
    assert kind in measured or "measured 1.08x slower" in warnings[1]


@pytest.mark.parametrize(
    ("caps", "amp", "channels_last"),
    [
        (Capabilities("cpu", native_bf16=False, kind="avx2"), "none", False),
        (Capabilities("cpu", native_bf16=False, kind="avx512"), "none", False),
        (Capabilities("cpu", native_bf16=True, kind="avx512_bf16"), "bf16", True),
        (Capabilities("cpu", native_bf16=True, kind="amx"), "bf16", True),
        (Capabilities("cuda", native_bf16=True, name="H100"), "bf16", True),
        (Capabilities("cuda", native_bf16=False, name="T4"), "fp16", True),
        (Capabilities("mps", native_bf16=False), "none", False),
    ],
)
def test_auto_decisions_per_hardware(caps: Capabilities, amp: str, channels_last: bool) -> None:
    choice = decide_amp(caps)
    assert choice.value == amp and choice.reason and choice.warning is None
    layout = decide_channels_last(caps, amp)
    assert layout.value is channels_last and layout.reason and layout.warning is None
    assert decide_compile(caps).value is False


@pytest.mark.parametrize(("kind", "slowdown"), [("avx2", "14.8x"), ("avx512", "1.5x"), ("", "14.8x")])
def test_forced_bf16_warns_only_without_native_bf16(kind: str, slowdown: str) -> None:
    forced = decide_amp(Capabilities("cpu", native_bf16=False, kind=kind), "bf16")
    assert forced.value == "bf16" and forced.warning and f"{slowdown} slower" in forced.warning
    assert decide_amp(Capabilities("cpu", native_bf16=True, kind="amx"), "bf16").warning is None
    assert decide_amp(Capabilities("cuda", native_bf16=True), "fp16").warning is None
    assert decide_amp(Capabilities("cpu", native_bf16=False, kind=kind), "none").warning is None


@pytest.mark.parametrize(
    ("kind", "task", "conv_dims", "expected", "forcing_warns"),
    [
        ("avx512", "infer", 2, True, False),  # measured 1.29x faster (TSM-R50 inference)
        ("avx512", "infer", 3, True, False),  # measured 1.10-2.37x faster (3D CNNs, folded)
        ("avx2", "infer", 3, False, False),
        ("avx512", "train", 3, True, False),  # measured 1.12-1.85x faster (I3D, SlowFast, X3D steps)
        (
            "avx512",
            "train",
            2,
            False,
            False,
        ),  # faster for TSM-R50, slower for TSM-R18 at 56 px: off, no warning
        ("avx2", "train", 2, False, True),  # the training step was measured slower
        ("avx2", "train", 3, False, True),
        ("avx2", "infer", 2, False, False),
    ],
)
def test_channels_last_for_fp32_inference_where_measured(
    kind: str, task: str, conv_dims: int, expected: bool, forcing_warns: bool
) -> None:
    caps = Capabilities("cpu", native_bf16=False, kind=kind)
    choice = decide_channels_last(caps, "none", task=task, conv_dims=conv_dims)
    assert choice.value is expected and choice.reason
    forced = decide_channels_last(caps, "none", True, task=task, conv_dims=conv_dims)
    assert forced.value is True and (forced.warning is not None) is forcing_warns


def test_forced_channels_last_warns_only_in_fp32_on_a_cpu() -> None:
    cpu = Capabilities("cpu", native_bf16=True, kind="amx")
    assert "1.08x slower" in (decide_channels_last(cpu, "none", True).warning or "")
    assert decide_channels_last(cpu, "bf16", True).warning is None
    assert decide_channels_last(cpu, "none", False).warning is None
    assert decide_channels_last(Capabilities("cuda", native_bf16=True), "none", True).warning is None
    assert decide_compile(cpu, True).value is True


def test_settings_line_names_every_choice() -> None:
    caps = Capabilities("cpu", native_bf16=True, kind="amx")
    settings = hardware.SpeedSettings(
        decide_amp(caps), decide_channels_last(caps, "bf16"), decide_compile(caps), device="cpu (amx)"
    )
    line = settings.describe()
    assert line.startswith("speed settings on cpu (amx): amp=bf16 (bf16; the CPU computes bf16 natively")
    assert "channels_last=true (" in line and "compile=false (" in line and "\n" not in line
