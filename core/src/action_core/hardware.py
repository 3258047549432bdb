"""What the machine can do fast: precision and memory format chosen per device, with the reason.

``amp = "auto"`` (the default of ``train.amp``) picks bf16 on CUDA devices that support it, fp16 (with a
gradient scaler) on other CUDA devices, bf16 on CPUs with native bf16 arithmetic (AVX-512 BF16 or AMX) and
fp32 on every other CPU: there bf16 is emulated and measured 2.5x (AVX-512 without BF16) to 14.8x (AVX2)
slower than fp32 for a training step. ``channels_last = "auto"`` turns the channels-last memory format on
where it was measured to help: CUDA, and CPUs running native bf16; on CPUs in fp32 it was measured slower
(TSM-R50 training step 1.08x slower on AVX2). Choosing a setting by hand where it is slower logs a warning
that says by how much.
"""

from __future__ import annotations

import functools
import logging
import platform
from pathlib import Path

import attrs
import torch

__all__ = ["Choice", "choose_amp", "choose_channels_last", "cpu_flags", "cpu_kind", "native_bf16"]

logger = logging.getLogger("action_core.hardware")

# Measured slowdowns (training step, this project's benchmarks; docs/benchmarks.md).
BF16_EMULATED_SLOWDOWN = {"avx512": 2.5, "avx2": 14.8}
CHANNELS_LAST_FP32_CPU_SLOWDOWN = 1.08


@attrs.frozen
class Choice:
    """A setting and why it was chosen (one log line)."""

    value: str | bool
    reason: str


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``/proc/cpuinfo`` on Linux; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16() -> bool:
    """True when the CPU computes in bf16 natively (AVX-512 BF16 or AMX), so autocast to bf16 is fast."""
    flags = cpu_flags()
    return bool({"avx512_bf16", "amx_bf16"} & flags)


def cpu_kind() -> str:
    """A short name of the CPU's vector unit: ``amx``, ``avx512_bf16``, ``avx512``, ``avx2``, or the
    machine architecture; benchmark tables are kept per kind."""
    flags = cpu_flags()
    for kind in ("amx_bf16", "avx512_bf16", "avx512f", "avx2"):
        if kind in flags:
            return {"amx_bf16": "amx", "avx512f": "avx512"}.get(kind, kind)
    return platform.machine().lower() or "unknown"


def choose_amp(device: torch.device, requested: str = "auto") -> Choice:
    """The mixed precision to train with on ``device``: ``none``, ``bf16`` or ``fp16``.

    ``requested`` other than ``auto`` is kept; on a CPU without native bf16 a bf16 request logs a warning
    with the measured slowdown.
    """
    if requested != "auto":
        if requested == "bf16" and device.type == "cpu" and not native_bf16():
            slowdown = BF16_EMULATED_SLOWDOWN.get(cpu_kind(), BF16_EMULATED_SLOWDOWN["avx2"])
            logger.warning(
                "amp = bf16 on a CPU without native bf16 (%s): bf16 is emulated there, a training step was "
                "measured %.1fx slower than fp32 on such CPUs; use amp = auto (fp32 here)",
                cpu_kind(),
                slowdown,
            )
        return Choice(requested, "as configured")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Choice("bf16", f"{torch.cuda.get_device_name(device)} supports bf16")
        return Choice(
            "fp16", f"{torch.cuda.get_device_name(device)} has no bf16: fp16 with a gradient scaler"
        )
    if device.type == "cpu":
        if native_bf16():
            return Choice("bf16", f"the CPU computes bf16 natively ({cpu_kind()})")
        return Choice("none", f"the CPU ({cpu_kind()}) has no native bf16: bf16 would be emulated, so fp32")
    return Choice("none", f"{device.type}: fp32")


def choose_channels_last(device: torch.device, amp: str, requested: bool | str = "auto") -> Choice:
    """Whether to use the channels-last memory format on ``device`` at precision ``amp``."""
    if requested != "auto":
        if requested is True and device.type == "cpu" and amp == "none":
            logger.warning(
                "channels_last = true on a CPU in fp32: measured %.2fx slower (TSM-R50 training step); use "
                "channels_last = auto",
                CHANNELS_LAST_FP32_CPU_SLOWDOWN,
            )
        return Choice(bool(requested), "as configured")
    if device.type == "cuda":
        return Choice(True, "channels-last is faster for convolutions on CUDA")
    if device.type == "cpu" and amp == "bf16" and native_bf16():
        return Choice(True, "channels-last measured 2.3-2.8x faster with native bf16 on the CPU")
    return Choice(False, "channels-last measured slower on the CPU in fp32")
