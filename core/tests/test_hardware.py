"""Precision and memory format chosen per machine: bf16 only where the CPU computes it natively."""

from __future__ import annotations

import logging

import pytest
import torch

from action_core import hardware

CPU = torch.device("cpu")


@pytest.fixture
def cpu_with(monkeypatch):
    def use(*flags: str) -> None:
        monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))

    return use


def test_this_machine_is_described():
    assert hardware.cpu_kind()
    assert isinstance(hardware.native_bf16(), bool)


@pytest.mark.parametrize(
    ("flags", "kind", "amp", "channels_last"),
    [
        (("avx2", "fma"), "avx2", "none", False),
        (("avx2", "avx512f"), "avx512", "none", False),
        (("avx2", "avx512f", "avx512_bf16"), "avx512_bf16", "bf16", True),
        (("avx2", "avx512f", "avx512_bf16", "amx_bf16"), "amx", "bf16", True),
    ],
)
def test_auto_picks_bf16_only_with_native_bf16(cpu_with, flags, kind, amp, channels_last):
    cpu_with(*flags)
    assert hardware.cpu_kind() == kind
    choice = hardware.choose_amp(CPU)
    assert choice.value == amp and choice.reason
    assert hardware.choose_channels_last(CPU, choice.value).value is channels_last


def test_forcing_a_slower_setting_warns_with_the_measured_slowdown(cpu_with, caplog):
    cpu_with("avx2", "fma")
    with caplog.at_level(logging.WARNING, logger="action_core.hardware"):
        assert hardware.choose_amp(CPU, "bf16").value == "bf16"
        assert hardware.choose_channels_last(CPU, "none", True).value is True
    text = caplog.text
    assert "14.8x slower" in text and "1.08x slower" in text
    caplog.clear()
    cpu_with("avx512_bf16", "avx512f")
    with caplog.at_level(logging.WARNING, logger="action_core.hardware"):
        hardware.choose_amp(CPU, "bf16")
    assert caplog.text == ""
