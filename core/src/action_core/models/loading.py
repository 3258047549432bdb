"""The one way weights get into a model: :func:`load_weights`.

A source is a local checkpoint file, a loaded checkpoint mapping, the name of a published checkpoint that a
model plugin lists (its registered ``weights`` catalogue), or an ``http(s)://`` URL. Files are always read
with ``torch.load(weights_only=True)`` (:func:`~action_core.engine.checkpoint.load_checkpoint`): a checkpoint
whose unpickling could run code is refused. Keys in another toolbox's layout go through a registered
converter (named, or found by trying each registered converter until one fits the model exactly), and every
key is accounted for in the returned :class:`~action_core.models.checkpoints.ConversionReport`: unconverted,
missing, unexpected, mis-shaped, or deliberately re-initialised.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from action_core.errors import ActionError, RegistryError
from action_core.models.checkpoints import (
    CheckpointMismatchError,
    ConversionReport,
    extract_state_dict,
)
from action_core.models.weights import WeightsInfo

logger = logging.getLogger("action_core.models")

__all__ = ["Converter", "WeightsError", "find_published_weights", "load_weights", "read_checkpoint"]

Converter = Callable[[Any], tuple[dict[str, torch.Tensor], tuple[str, ...]]]
Source = str | os.PathLike[str] | Mapping[str, Any] | WeightsInfo


class WeightsError(ActionError):
    """Weights could not be found, read or matched to the model."""


def read_checkpoint(
    source: str | os.PathLike[str] | Mapping[str, Any], *, progress: bool = False
) -> Mapping[str, Any]:
    """A loaded checkpoint: ``source`` itself when it is a mapping, else the file (or ``http(s)://`` URL,
    downloaded once into torch's hub cache) read with ``weights_only=True`` (pickled code is refused with an
    error naming the file)."""
    if isinstance(source, Mapping):
        return source
    from action_core.engine.checkpoint import load_checkpoint

    text = os.fspath(source)
    if text.startswith(("http://", "https://")):
        return load_checkpoint(_download(text, progress=progress))
    return load_checkpoint(text)


def find_published_weights(name: str) -> tuple[WeightsInfo, str] | None:
    """The published checkpoint ``name`` from the registered models' catalogues, and the model that lists it."""
    from action_core.plugins.host import get_host

    host = get_host()
    host.load_all()
    for entry in host.registry.entries("model"):
        catalogue_target = getattr(entry.spec, "weights", "")
        if not catalogue_target:
            continue
        from action_core.registry import import_target

        catalogue = import_target(catalogue_target)
        if name in catalogue:
            return catalogue[name], entry.name
    return None


def _download(url: str, *, progress: bool) -> Path:
    """The file behind ``url`` in torch's hub cache (downloaded once, hash-checked when the name carries one)."""
    filename = url.rsplit("/", 1)[-1].split("?", 1)[0]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / filename
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    match = re.search(r"-([a-f0-9]{8,})\.", filename)  # torch's convention: name-<sha256 prefix>.pth
    try:
        torch.hub.download_url_to_file(
            url, str(cached), hash_prefix=match.group(1) if match else None, progress=progress
        )
    except (OSError, RuntimeError) as e:
        raise WeightsError(
            f"could not download {url} ({e}); when offline, put the file at {cached} or give the local path"
        ) from e
    return cached


def _resolve(source: Source, *, progress: bool) -> tuple[Mapping[str, Any], str, str | None]:
    """(checkpoint, description, converter name or None) of a source."""
    if isinstance(source, WeightsInfo):
        return read_checkpoint(_download(source.url, progress=progress)), source.name, source.converter
    if isinstance(source, Mapping):
        return source, "checkpoint", None
    text = os.fspath(source)
    if text.startswith(("http://", "https://")):
        return read_checkpoint(_download(text, progress=progress)), text, None
    if os.path.exists(text):
        return read_checkpoint(text), text, None
    published = find_published_weights(text)
    if published is not None:
        info, _ = published
        return read_checkpoint(_download(info.url, progress=progress)), info.name, info.converter
    raise WeightsError(
        f"weights {text!r} are neither a file, a URL nor a published checkpoint of an installed model plugin "
        "(`action-run info MODEL` lists a model's published checkpoints)"
    )


def _converters(name: str | Converter | None) -> list[tuple[str, Converter]]:
    from action_core.plugins.host import get_host

    if callable(name):
        return [(getattr(name, "__name__", "converter"), name)]
    registry = get_host().registry
    if name is not None:
        return [(name, registry.load("converter", name))]
    get_host().load_all()
    found = []
    for entry in registry.entries("converter"):
        try:
            found.append((entry.name, entry.load()))
        except RegistryError as e:  # a broken plugin never stops another plugin's weights from loading
            logger.warning("skipping converter %s: %s", entry.qualified_name, e)
    return found


def _fit(model: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[int, int]:
    own = model.state_dict()
    missing = sum(k not in state for k in own)
    wrong = sum(k not in own or tuple(v.shape) != tuple(own[k].shape) for k, v in state.items())
    return missing, wrong


def load_weights(
    model: nn.Module,
    source: Source,
    *,
    converter: str | Converter | None = None,
    strict: bool = True,
    backbone_only: bool = False,
    reinit_mismatched_head: bool = False,
    head_prefix: str = "head.",
    progress: bool = False,
) -> ConversionReport:
    """Load ``source`` into ``model`` and return the account of every key.

    ``converter``: a registered converter name or a ``convert(checkpoint) -> (state_dict, unconverted)``
    callable; by default a checkpoint already in the model's layout loads as it is, and otherwise each
    registered converter is tried and the one whose output fits the model exactly is used.
    ``backbone_only`` loads the ``backbone.*`` weights only. ``reinit_mismatched_head`` (fine-tuning on
    another label set) keeps the model's fresh head tensors where the checkpoint's have another shape and
    lists them in the report's ``reinitialised``. With ``strict`` anything else left unmatched raises
    :class:`~action_core.models.checkpoints.CheckpointMismatchError` before the model is touched.
    """
    checkpoint, where, named = _resolve(source, progress=progress)
    converter = converter or named or None
    try:
        state = extract_state_dict(checkpoint)
    except (TypeError, ValueError) as e:
        raise WeightsError(f"{where}: {e}") from e
    target: nn.Module = model
    if backbone_only:
        backbone = getattr(model, "backbone", None)
        if not isinstance(backbone, nn.Module):
            raise WeightsError(f"backbone_only: {type(model).__name__} has no backbone module")
        target = backbone

    def part(converted: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not backbone_only:
            return dict(converted)
        return {k[len("backbone.") :]: v for k, v in converted.items() if k.startswith("backbone.")}

    # Candidates: the checkpoint as it is (our own layout) unless a converter is named, then what each
    # converter makes of it; the one that fits the model best wins, and its misfits are reported.
    candidates: list[tuple[dict[str, torch.Tensor], tuple[str, ...]]] = []
    if converter is None:
        candidates.append((part(state), ()))
    if converter is not None or _fit(target, candidates[0][0]) != (0, 0):
        for _, convert in _converters(converter):
            try:
                converted, left = convert(checkpoint)
            except (KeyError, ValueError, TypeError):
                if converter is not None:
                    raise
                continue
            candidates.append((part(converted), tuple(left)))
            if _fit(target, candidates[-1][0]) == (0, 0) and not left:
                break
    if not candidates:
        raise WeightsError(f"{where}: converter {converter!r} could not read it")
    state, unconverted = min(candidates, key=lambda c: (*_fit(target, c[0]), len(c[1])))
    return _load(target, state, unconverted, strict, reinit_mismatched_head, head_prefix, where)


def _load(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    unconverted: tuple[str, ...],
    strict: bool,
    reinit_head: bool,
    head_prefix: str,
    where: str,
) -> ConversionReport:
    own = model.state_dict()
    mismatched = [
        (k, tuple(v.shape), tuple(own[k].shape))
        for k, v in state.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    reinitialised = tuple(k for k, _, _ in mismatched if reinit_head and k.startswith(head_prefix))
    report = ConversionReport(
        unconverted=unconverted,
        missing=tuple(k for k in own if k not in state),
        unexpected=tuple(k for k in state if k not in own),
        shape_mismatch=tuple(m for m in mismatched if m[0] not in reinitialised),
        reinitialised=reinitialised,
    )
    if strict and not report.ok:
        raise CheckpointMismatchError(
            f"{where} does not match the model: {report.summary()}. Check that it belongs to this architecture "
            "and its arguments (depth, num_segments, ...); to fine-tune on another label set use "
            "reinit_mismatched_head=True (`--from` does), or load with strict=False and read the report.",
            report,
        )
    skip = {m[0] for m in mismatched}
    model.load_state_dict({k: v for k, v in state.items() if k in own and k not in skip}, strict=False)
    return report
