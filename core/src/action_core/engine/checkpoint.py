"""Checkpoints: atomic writes, safe loading, RNG state capture, and finding the one to resume from.

A checkpoint is a dict of tensors and plain Python values only (no pickled classes), so it loads with
``torch.load(weights_only=True)``. It is written to a temporary file in the same folder, flushed and
fsync'ed, then renamed over the target: a reader (or a run killed with ``kill -9`` mid-write) sees either
the old complete file or the new complete file, never a partial one.

Layout of a training checkpoint (``FORMAT`` = ``"action-ckpt/1"``)::

    {"format", "model", "optimizer", "scheduler", "scaler" (or None), "epoch" (epochs completed),
     "iteration" (optimizer steps taken), "batch_in_epoch" (batches of the current epoch done),
     "epoch_loss_sum" ([sum, count] of those batches' losses over all ranks), "rng": {"python", "numpy", "torch", "cuda"}, "best": {"metric", "value", "epoch"},
     "history": {...}, "meta": {"config", "classes", "multi_label", "model_type", "input", "world_size",
     "batch_size"}}

A training checkpoint is self-contained: ``meta`` holds everything needed to rebuild and run the model
without anything else: the resolved config with initial-weights loading taken out (``pretrained`` off,
``weights`` and ``train.load_from`` removed: the checkpoint's own weights replace them), the class names,
the input spec and normalisation (:func:`input_spec`) and the model type (:func:`model_signature`), which
:func:`check_model_type` compares before weights are loaded into a model built from another config.
Retention: ``epoch_N.pth`` files beyond the newest ``train.keep_ckpts`` are removed
(:func:`prune_epoch_checkpoints`); ``last.pth`` and ``best.pth`` are always kept.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from action_core.errors import ActionError

__all__ = [
    "FORMAT",
    "CheckpointError",
    "atomic_copy",
    "capture_rng_state",
    "check_model_type",
    "describe_model_type",
    "find_resume_checkpoint",
    "input_spec",
    "load_checkpoint",
    "model_signature",
    "model_state_from_checkpoint",
    "prune_epoch_checkpoints",
    "restore_rng_state",
    "run_meta",
    "save_checkpoint",
    "self_contained_config",
]

FORMAT = "action-ckpt/1"
_EPOCH_FILE = re.compile(r"^epoch_(\d+)\.pth$")


class CheckpointError(ActionError):
    """A checkpoint is missing, unreadable, unsafe to load, or does not fit the model."""


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(state: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(dict(state), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Copy a finished checkpoint file to ``dst`` with the same all-or-nothing guarantee as saving."""
    dst = Path(dst)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as source:
            shutil.copyfileobj(source, out, length=16 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, dst)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(dst.parent)
    return dst


def load_checkpoint(
    path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)``.

    A file that would need arbitrary unpickling (a pickled class or function, which could run code) is
    refused with :class:`CheckpointError`; so is a missing or truncated file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist; check the path (or the work dir)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if "global" not in str(e).lower():  # not a refused object: bytes that are no checkpoint at all
            raise CheckpointError(
                f"checkpoint {str(path)!r} is not a PyTorch checkpoint (or is damaged): {e}"
            ) from e
        raise CheckpointError(
            f"refusing to load checkpoint {str(path)!r}: it contains pickled Python objects other than "
            "tensors and plain values, and unpickling them could execute arbitrary code. Only load it if you "
            "trust its source: re-save it as a plain state dict, e.g. "
            "torch.save({'model': torch.load(p, weights_only=False)['model']}, 'clean.pth') in a trusted "
            f"session, or convert it: action-run convert {str(path)!r} --out clean.pth --trust-pickle"
        ) from e
    except Exception as e:  # torch's readers fail in many ways on damaged bytes: all mean the same here
        raise CheckpointError(
            f"checkpoint {str(path)!r} could not be read ({type(e).__name__}: {e}); it may be truncated or "
            "not a PyTorch file"
        ) from e
    if not isinstance(state, dict):
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a dict; save a state dict"
        )
    return state


def model_state_from_checkpoint(state: Mapping[str, Any], *, source: str = "checkpoint") -> dict[str, Any]:
    """The model weights of a loaded checkpoint: ours (``"model"``), MMAction2-style (``"state_dict"``)
    or a bare state dict; a ``module.`` prefix left by DDP is removed."""
    for key in ("model", "state_dict"):
        if key in state and isinstance(state[key], Mapping):
            weights = dict(state[key])
            break
    else:
        weights = dict(state)
    if not weights or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(
            f"{source} has no model weights: expected a 'model' or 'state_dict' entry of tensors "
            f"(top-level keys: {sorted(state)[:10]})"
        )
    if all(k.startswith("module.") for k in weights):
        weights = {k[len("module.") :]: v for k, v in weights.items()}
    return weights


def capture_rng_state() -> dict[str, Any]:
    """The python, numpy, torch (and CUDA) generator states, as tensors and plain values."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [
            kind,
            torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            int(pos),
            int(has_gauss),
            float(cached),
        ],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Restore generator states captured by :func:`capture_rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    cuda_states = state.get("cuda") or []
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)


def find_resume_checkpoint(work_dir: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint in ``work_dir``: ``last.pth``, else the highest ``epoch_N.pth``.

    ``last.pth`` is rewritten at every save, so it is the newest one when it is readable. A candidate that
    cannot be read is skipped with a warning, so a damaged file never blocks resuming from an older good
    one. ``best.pth`` is not a candidate: it may be older than the rest.
    """
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return None
    epochs = sorted(
        ((int(m.group(1)), p) for p in work_dir.iterdir() if (m := _EPOCH_FILE.match(p.name))), reverse=True
    )
    for path in [work_dir / "last.pth", *(p for _, p in epochs)]:
        if not path.is_file():
            continue
        try:
            state = load_checkpoint(path)
        except CheckpointError as e:
            warnings.warn(f"skipping checkpoint {str(path)!r} when resuming: {e}", stacklevel=2)
            continue
        if state.get("format") != FORMAT:
            warnings.warn(
                f"skipping {str(path)!r} when resuming: not an action training checkpoint", stacklevel=2
            )
            continue
        return path
    return None


def prune_epoch_checkpoints(work_dir: str | os.PathLike[str], keep: int) -> list[Path]:
    """Remove ``epoch_N.pth`` files but the ``keep`` newest (``keep < 0``: keep all); returns the removed."""
    if keep < 0:
        return []
    folder = Path(work_dir)
    epochs = sorted(
        ((int(m.group(1)), p) for p in folder.iterdir() if (m := _EPOCH_FILE.match(p.name))), reverse=True
    )
    removed = []
    for _, path in epochs[keep:]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


_PARTS = ("backbone", "neck", "head")


def model_signature(model: Mapping[str, Any]) -> dict[str, Any]:
    """What kind of model a ``[model]`` table builds: its ``type``, the composite it expands to
    (``Recognizer2D`` ...) and the registered type of each part, e.g. ``{"type": "tsm_r50", "composite":
    "Recognizer2D", "parts": {"backbone": "resnet_tsm", "head": "tsm_head"}}``."""
    from action_core.models.compose import expand_model, without_downloads

    table = dict(model)
    if any(isinstance(table.get(p), Mapping) for p in _PARTS):
        spec: Mapping[str, Any] = table
    else:
        args = without_downloads(dict(table.get("args") or {}))
        try:
            spec = expand_model(table["type"], num_classes=table.get("num_classes"), **args)
        except Exception:  # a model that cannot be expanded is known by its name alone
            spec = {"type": table["type"]}
    parts = {
        p: str(spec[p]["type"]) for p in _PARTS if isinstance(spec.get(p), Mapping) and "type" in spec[p]
    }
    return {"type": str(table["type"]), "composite": str(spec.get("type", table["type"])), "parts": parts}


def describe_model_type(signature: Mapping[str, Any]) -> str:
    """``tsm_r50 (Recognizer2D: backbone resnet_tsm, head tsm_head)``."""
    parts = ", ".join(f"{k} {v}" for k, v in dict(signature.get("parts") or {}).items())
    inner = signature.get("composite", "")
    if parts:
        inner = f"{inner}: {parts}" if inner else parts
    name = signature.get("type", "?")
    return f"{name} ({inner})" if inner and inner != name else str(name)


def check_model_type(state: Mapping[str, Any], model: Mapping[str, Any], *, source: str) -> None:
    """Refuse to load a training checkpoint into a model of another type than the one it was trained as,
    naming both (a TSN checkpoint under a TSM config). Checkpoints without a recorded type pass."""
    stored = (state.get("meta") or {}).get("model_type")
    if not isinstance(stored, Mapping):
        return
    wanted = model_signature(model)
    same = (
        stored.get("composite") == wanted["composite"] and dict(stored.get("parts") or {}) == wanted["parts"]
    )
    if not same:
        raise CheckpointError(
            f"{source} holds a {describe_model_type(stored)} model, but the config builds "
            f"{describe_model_type(wanted)}; use the config it was trained with (leave the config out: the "
            "checkpoint carries its own)"
        )


def self_contained_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved config (plain data) that rebuilds the model without loading initial weights:
    ``pretrained`` off and ``weights`` removed in ``[model]``, ``train.load_from`` and ``train.freeze``
    removed (what the checkpoint's weights already hold)."""
    from action_core.models.compose import without_downloads

    data = dict(config)
    if isinstance(data.get("model"), Mapping):
        data["model"] = without_downloads(data["model"])
    if isinstance(data.get("train"), Mapping):
        data["train"] = {k: v for k, v in data["train"].items() if k not in ("load_from", "freeze")}
    return data


def _sampled_frames(step: Mapping[str, Any]) -> int | None:
    if int(step.get("clip_len", 1) or 1) > 1:
        return int(step["clip_len"])
    count = step.get("num_clips", step.get("num_segments"))
    if count is None:
        return None
    grouped = 2 if step.get("twice_sample") else int(step.get("num_views") or 1)
    return max(int(count) // grouped, 1)


def input_spec(pipeline: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The input one view of a test pipeline gives the model: layout (``NCHW`` frames of a 2D model,
    ``NCTHW`` clips of a 3D one), frames per view, crop size and the normalisation (mean, std)."""
    spec: dict[str, Any] = {}
    for step in pipeline:
        kind = step.get("type")
        if "num_clips" in step or "num_segments" in step:
            frames = _sampled_frames(step)
            if frames is not None:
                spec.setdefault("frames", frames)
        elif kind in ("CenterCrop", "ThreeCrop", "TenCrop"):
            size = step.get("crop_size")
            spec["size"] = [size, size] if isinstance(size, int) else list(size or ())[::-1]
        elif kind == "Normalize":
            spec["mean"] = list(step.get("mean", []))
            spec["std"] = list(step.get("std", []))
        elif kind == "FormatShape":
            spec["format"] = step.get("input_format")
    return spec


def run_meta(cfg: Any, *, classes: list[str] | None, multi_label: bool, world_size: int) -> dict[str, Any]:
    """The ``meta`` of a training checkpoint of ``cfg`` (an :class:`ExperimentConfig`)."""
    data = cfg.to_dict()
    return {
        "config": self_contained_config(data),
        "classes": list(classes) if classes is not None else None,
        "multi_label": multi_label,
        "model_type": model_signature(data["model"]),
        "input": input_spec(list(cfg.data.val.pipeline or cfg.data.test.pipeline)),
        "world_size": world_size,
        "batch_size": cfg.data.batch_size,
    }
