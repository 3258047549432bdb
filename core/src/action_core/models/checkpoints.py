"""Helpers for checkpoint converters: key renaming with a full account of what matched and what did not.

A converter maps a foreign state dict (e.g. MMAction2's) to a model's key names; nothing is ever dropped
silently: keys that no rule maps, keys the model lacks and shape mismatches end up in a
:class:`ConversionReport`, and :meth:`ConversionReport.raise_if_incomplete` turns them into an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from action_core.errors import ActionError

__all__ = [
    "CheckpointMismatchError",
    "ConversionReport",
    "extract_state_dict",
    "load_converted",
    "rename_keys",
]


class CheckpointMismatchError(ActionError, ValueError):
    """A converted state dict does not fit the model (missing, unexpected or mis-shaped keys)."""

    def __init__(self, message: str, report: ConversionReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ConversionReport:
    """What happened to every key during a conversion or a load.

    ``unconverted``: source keys no rename rule applied to; ``missing``: model keys absent from the
    converted dict; ``unexpected``: converted keys the model does not have; ``shape_mismatch``:
    (key, checkpoint shape, model shape); ``reinitialised``: model keys deliberately left at their fresh
    initialisation because the checkpoint's tensor has another shape (a head fine-tuned to other classes).
    """

    unconverted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    shape_mismatch: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = field(default=())
    reinitialised: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every key was converted and matched the model exactly."""
        return not (self.unconverted or self.missing or self.unexpected or self.shape_mismatch)

    def summary(self, limit: int = 10) -> str:
        """Human-readable list of the problems (at most ``limit`` keys per category)."""

        def fmt(title: str, items: Sequence[object]) -> str:
            shown = ", ".join(str(i) for i in items[:limit])
            more = f" ... (+{len(items) - limit} more)" if len(items) > limit else ""
            return f"{title} ({len(items)}): {shown}{more}"

        parts = []
        if self.unconverted:
            parts.append(fmt("keys no conversion rule applies to", self.unconverted))
        if self.missing:
            parts.append(fmt("model keys missing from the checkpoint", self.missing))
        if self.unexpected:
            parts.append(fmt("checkpoint keys the model does not have", self.unexpected))
        if self.shape_mismatch:
            parts.append(fmt("shape mismatches (key, checkpoint, model)", self.shape_mismatch))
        if self.reinitialised:
            parts.append(fmt("re-initialised (other shape in the checkpoint)", self.reinitialised))
        return "; ".join(parts) if parts else "all keys matched"

    def raise_if_incomplete(self, source: str = "checkpoint") -> None:
        """Raise :class:`CheckpointMismatchError` naming ``source`` unless :attr:`ok`."""
        if not self.ok:
            raise CheckpointMismatchError(
                f"{source} does not match the model: {self.summary()}. Check that the checkpoint belongs "
                "to this architecture (depth, num_classes, num_segments, shift_place), or load with "
                "strict=False and inspect the returned report.",
                self,
            )


def extract_state_dict(checkpoint: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """The tensor state dict inside a loaded checkpoint.

    Accepts a bare state dict or a dict holding one under ``state_dict`` (MMAction2, MMEngine) or
    ``model`` (our engine); a DataParallel/DDP ``module.`` prefix is removed.
    """
    inner: object = checkpoint
    for key in ("state_dict", "model"):
        if isinstance(inner, Mapping) and key in inner and isinstance(inner[key], Mapping):
            inner = inner[key]
            break
    if not isinstance(inner, Mapping):
        raise TypeError(f"expected a state dict (mapping of tensors), got {type(inner).__name__}")
    state = {k: v for k, v in inner.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise ValueError(
            f"no tensors found in the checkpoint (top-level keys: {sorted(checkpoint)[:10]}); "
            "is this a model checkpoint?"
        )
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def rename_keys(
    state_dict: Mapping[str, torch.Tensor], rules: Iterable[tuple[str, str]]
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Rename keys with the first matching ``(regex, replacement)`` rule (``re.fullmatch`` + ``expand``).

    Returns the renamed dict and the source keys no rule matched (which are left out of the dict and
    must be reported by the caller). Two source keys mapping to one target is an error.
    """
    compiled = [(re.compile(pattern), repl) for pattern, repl in rules]
    out: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    unconverted: list[str] = []
    for key, value in state_dict.items():
        for pattern, repl in compiled:
            match = pattern.fullmatch(key)
            if match is not None:
                new_key = match.expand(repl)
                if new_key in out:
                    raise ValueError(
                        f"checkpoint keys {origin[new_key]!r} and {key!r} both map to {new_key!r}"
                    )
                out[new_key] = value
                origin[new_key] = key
                break
        else:
            unconverted.append(key)
    return out, tuple(unconverted)


def load_converted(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    *,
    unconverted: Sequence[str] = (),
    strict: bool = True,
    source: str = "checkpoint",
) -> ConversionReport:
    """Load an already-converted ``state_dict`` into ``model`` and report every mismatch.

    With ``strict`` any mismatch raises :class:`CheckpointMismatchError` before the model is touched;
    otherwise the matching tensors are loaded and the report lists the rest.
    """
    own = model.state_dict()
    mismatched = tuple(
        (k, tuple(v.shape), tuple(own[k].shape))
        for k, v in state_dict.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    )
    report = ConversionReport(
        unconverted=tuple(unconverted),
        missing=tuple(k for k in own if k not in state_dict),
        unexpected=tuple(k for k in state_dict if k not in own),
        shape_mismatch=mismatched,
    )
    if strict:
        report.raise_if_incomplete(source)
    bad = {m[0] for m in mismatched}
    loadable = {k: v for k, v in state_dict.items() if k in own and k not in bad}
    model.load_state_dict(loadable, strict=False)
    return report
