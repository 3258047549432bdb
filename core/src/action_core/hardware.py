"""What the machine can do fast: precision, memory format and compilation chosen per device, with the reason.

``amp = "auto"`` (the default of ``train.amp``) picks bf16 on CUDA devices that support it, fp16 (with a
gradient scaler) on other CUDA devices, bf16 on CPUs with native bf16 arithmetic (AVX-512 BF16 or AMX) and
fp32 on every other CPU: there bf16 is emulated and measured 1.5x (AVX-512 without BF16) to 14.8x (AVX2)
slower than fp32 for a training step. ``channels_last = "auto"`` turns the channels-last memory format on
where it was measured to help: CUDA, CPUs running native bf16, and in fp32 on AVX-512 inference (2D and 3D
CNNs) and 3D-CNN training (:data:`CHANNELS_LAST_CPU_SPEEDUP`); for CPU training in fp32 it was measured
slower on AVX2 (TSM-R50 step 1.08x slower). ``compile = "auto"`` leaves ``torch.compile`` off (see
:data:`COMPILE_REASON`). Choosing a setting by hand where it is slower logs a warning that says by how much.

The decisions are pure functions of a :class:`Capabilities` record (:func:`decide_amp`,
:func:`decide_channels_last`, :func:`decide_compile`); :func:`capabilities` detects the record of a device and
:func:`choose_speed` does both and logs one line.
"""

from __future__ import annotations

import functools
import logging
import platform
from pathlib import Path

import attrs
import torch

__all__ = [
    "Capabilities",
    "Choice",
    "SpeedSettings",
    "capabilities",
    "choose_amp",
    "choose_channels_last",
    "choose_speed",
    "cpu_flags",
    "cpu_kind",
    "decide_amp",
    "decide_channels_last",
    "decide_compile",
    "native_bf16",
]

logger = logging.getLogger("action_core.hardware")

# Measured slowdowns (training step, this project's benchmarks; docs/benchmarks*.md).
BF16_EMULATED_SLOWDOWN = {"avx512": 1.5, "avx2": 14.8}
CHANNELS_LAST_FP32_CPU_SLOWDOWN = 1.08
# fp32 on a CPU, channels-last against contiguous (CPU time), by task, convolution dimensions and CPU kind
# (docs/benchmarks-speed.md). Inference: 2D, eager TSM-R50, batch 8; 3D, batch norms folded, batch 4, every
# 3D-CNN family from SlowOnly (1.10x) to X3D-M (2.37x), the 3D transformers within 0.99-1.06x. Training step,
# batch 2: I3D-R50 and SlowFast-R50 1.12x, X3D-S 1.85x.
CHANNELS_LAST_CPU_SPEEDUP = {
    ("infer", 2): {"avx512": "1.29x"},
    ("infer", 3): {"avx512": "1.10-2.37x"},
    ("train", 3): {"avx512": "1.12-1.85x"},
}
# Measured both ways, so left off without a warning: a 2D training step on AVX-512 is 1.15x faster for
# TSM-R50 at 224 px and 1.09x slower for TSM-R18 at 56 px.
CHANNELS_LAST_CPU_MIXED = {
    ("train", 2): {"avx512": "1.15x faster for TSM-R50 at 224 px, 1.09x slower at 56 px"}
}
COMPILE_REASON = {
    "cpu": "torch.compile measured no faster on the CPU (TSM-R50 inference 1.01x, docs/benchmarks-speed.md) "
    "and costs minutes of compilation",
    "cuda": "torch.compile is not measured on CUDA yet; set train.compile = true to try it",
}


@attrs.frozen
class Choice:
    """A setting, why it was chosen (for the log line) and, when it was forced where it is slower, the
    warning to show."""

    value: str | bool
    reason: str
    warning: str | None = None


@attrs.frozen
class Capabilities:
    """What the speed decisions depend on: the device type (``cpu``, ``cuda``, ...), its name, whether it
    computes bf16 natively (a CPU with AVX-512 BF16 / AMX, a CUDA device that supports bf16) and, for a CPU,
    the kind of its vector unit (:func:`cpu_kind`)."""

    device_type: str
    native_bf16: bool
    kind: str = ""
    name: str = ""


@attrs.frozen
class SpeedSettings:
    """The resolved ``amp``, ``channels_last`` and ``compile`` of a run, each with its reason."""

    amp: Choice
    channels_last: Choice
    compile: Choice
    device: str = "cpu"

    def describe(self) -> str:
        """One line: what was chosen and why."""
        precision = "fp32" if self.amp.value == "none" else self.amp.value
        return (
            f"speed settings on {self.device}: amp={self.amp.value} ({precision}; {self.amp.reason}); "
            f"channels_last={str(self.channels_last.value).lower()} ({self.channels_last.reason}); "
            f"compile={str(self.compile.value).lower()} ({self.compile.reason})"
        )


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
    """True when the CPU computes in bf16 natively (AVX-512 BF16 or AMX), so autocast to bf16 is fast.

    Read from the CPU flags, with torch's own dispatch level (``torch.backends.cpu.get_cpu_capability()``,
    ``AVX512_BF16`` / ``AMX`` in builds that report them) as a second source where the flags are not
    readable."""
    if {"avx512_bf16", "amx_bf16"} & cpu_flags():
        return True
    capability = str(torch.backends.cpu.get_cpu_capability()).upper()
    return "BF16" in capability or "AMX" in capability


def cpu_kind() -> str:
    """A short name of the CPU's vector unit: ``amx``, ``avx512_bf16``, ``avx512``, ``avx2``, or the
    machine architecture; benchmark tables are kept per kind."""
    flags = cpu_flags()
    for kind in ("amx_bf16", "avx512_bf16", "avx512f", "avx2"):
        if kind in flags:
            return {"amx_bf16": "amx", "avx512f": "avx512"}.get(kind, kind)
    capability = str(torch.backends.cpu.get_cpu_capability()).lower()
    if capability.startswith("avx"):
        return capability
    return platform.machine().lower() or "unknown"


def capabilities(device: torch.device | str) -> Capabilities:
    """Detect what :func:`decide_amp` and friends need about ``device``."""
    device = torch.device(device)
    if device.type == "cuda":
        return Capabilities(
            "cuda", native_bf16=torch.cuda.is_bf16_supported(), name=torch.cuda.get_device_name(device)
        )
    if device.type == "cpu":
        return Capabilities("cpu", native_bf16=native_bf16(), kind=cpu_kind(), name=platform.processor())
    return Capabilities(device.type, native_bf16=False, name=device.type)


def decide_amp(caps: Capabilities, requested: str = "auto") -> Choice:
    """The mixed precision to run with: ``none`` (fp32), ``bf16`` or ``fp16``.

    ``requested`` other than ``auto`` is kept; bf16 on a CPU without native bf16 carries a warning with the
    measured slowdown."""
    if requested != "auto":
        warning = None
        if requested == "bf16" and caps.device_type == "cpu" and not caps.native_bf16:
            slowdown = BF16_EMULATED_SLOWDOWN.get(caps.kind, BF16_EMULATED_SLOWDOWN["avx2"])
            warning = (
                f"amp = bf16 on a CPU without native bf16 ({caps.kind or 'unknown kind'}): bf16 is emulated "
                f"there, a training step was measured {slowdown:.1f}x slower than fp32 on such CPUs; use "
                "amp = auto (fp32 here)"
            )
        return Choice(requested, "as configured", warning)
    if caps.device_type == "cuda":
        if caps.native_bf16:
            return Choice("bf16", f"{caps.name or 'the GPU'} supports bf16")
        return Choice("fp16", f"{caps.name or 'the GPU'} has no bf16: fp16 with a gradient scaler")
    if caps.device_type == "cpu":
        if caps.native_bf16:
            return Choice("bf16", f"the CPU computes bf16 natively ({caps.kind})")
        return Choice(
            "none", f"the CPU ({caps.kind or 'unknown kind'}) has no native bf16, so bf16 would be emulated"
        )
    return Choice("none", f"no mixed precision is set up for {caps.device_type}")


def _cl_cpu_measured(caps: Capabilities, amp: str, task: str, conv_dims: int, table: dict) -> str | None:
    """What ``table`` holds for channels-last in fp32 on this CPU kind for ``task`` and ``conv_dims``."""
    if caps.device_type != "cpu" or amp != "none":
        return None
    return table.get((task, conv_dims), {}).get(caps.kind)


def decide_channels_last(
    caps: Capabilities, amp: str, requested: bool | str = "auto", *, task: str = "train", conv_dims: int = 2
) -> Choice:
    """Whether to use the channels-last memory format at precision ``amp`` (already resolved) for ``task``
    (``"train"`` or ``"infer"``) of a model with ``conv_dims``-D convolutions (2: frames, 3: clips)."""
    speedup = _cl_cpu_measured(caps, amp, task, conv_dims, CHANNELS_LAST_CPU_SPEEDUP)
    mixed = _cl_cpu_measured(caps, amp, task, conv_dims, CHANNELS_LAST_CPU_MIXED)
    if requested != "auto":
        warning = None
        # the measured slowdown is a training step's (AVX2); inference layouts are measured faster or not at all
        cpu_fp32_train = caps.device_type == "cpu" and amp == "none" and task == "train"
        if requested is True and cpu_fp32_train and speedup is None and mixed is None:
            warning = (
                f"channels_last = true on a CPU in fp32: measured {CHANNELS_LAST_FP32_CPU_SLOWDOWN:.2f}x "
                "slower (TSM-R50 training step, AVX2); use channels_last = auto"
            )
        return Choice(bool(requested), "as configured", warning)
    if caps.device_type == "cuda":
        return Choice(True, "faster for convolutions on CUDA")
    if caps.device_type == "cpu" and amp == "bf16" and caps.native_bf16:
        return Choice(True, "measured 2.3-2.8x faster with native bf16 on the CPU")
    what = "inference" if task == "infer" else "training"
    if speedup is not None:
        return Choice(True, f"measured {speedup} faster for {conv_dims}D-model {what} in fp32 on {caps.kind}")
    if mixed is not None:
        return Choice(False, f"{conv_dims}D-model {what} in fp32 on {caps.kind}: measured {mixed}")
    if caps.device_type == "cpu":
        return Choice(
            False,
            f"measured {CHANNELS_LAST_FP32_CPU_SLOWDOWN:.2f}x slower on the CPU in fp32 (AVX2 training)",
        )
    return Choice(False, f"not measured on {caps.device_type}")


def decide_compile(caps: Capabilities, requested: bool | str = "auto") -> Choice:
    """Whether to wrap the model's steps in ``torch.compile``."""
    if requested != "auto":
        return Choice(bool(requested), "as configured")
    return Choice(False, COMPILE_REASON.get(caps.device_type, f"not measured on {caps.device_type}"))


def choose_speed(
    device: torch.device | str,
    *,
    amp: str = "auto",
    channels_last: bool | str = "auto",
    compile: bool | str = "auto",
    log: bool = True,
    task: str = "train",
    conv_dims: int = 2,
) -> SpeedSettings:
    """Resolve ``amp`` / ``channels_last`` / ``compile`` (each ``"auto"`` or a forced value) for ``device``,
    ``task`` (``"train"`` or ``"infer"``) and a model with ``conv_dims``-D convolutions; with ``log``, one
    INFO line says what was chosen and why, and a forced setting that is slower here logs a warning."""
    caps = capabilities(device)
    amp_choice = decide_amp(caps, amp)
    settings = SpeedSettings(
        amp_choice,
        decide_channels_last(caps, str(amp_choice.value), channels_last, task=task, conv_dims=conv_dims),
        decide_compile(caps, compile),
        device=str(device) if caps.device_type != "cpu" else f"cpu ({caps.kind})",
    )
    if log:
        logger.info(settings.describe())
        for choice in (settings.amp, settings.channels_last, settings.compile):
            if choice.warning:
                logger.warning(choice.warning)
    return settings


def choose_amp(device: torch.device, requested: str = "auto") -> Choice:
    """The mixed precision to train with on ``device`` (:func:`decide_amp` on the detected capabilities);
    a forced setting that is slower here logs its warning."""
    choice = decide_amp(capabilities(device), requested)
    if choice.warning:
        logger.warning(choice.warning)
    return choice


def choose_channels_last(
    device: torch.device,
    amp: str,
    requested: bool | str = "auto",
    *,
    task: str = "train",
    conv_dims: int = 2,
) -> Choice:
    """Whether to use the channels-last memory format on ``device`` at precision ``amp`` (see
    :func:`decide_channels_last`)."""
    choice = decide_channels_last(capabilities(device), amp, requested, task=task, conv_dims=conv_dims)
    if choice.warning:
        logger.warning(choice.warning)
    return choice
