"""Checkpoints: atomic writes, safe loading, RNG state capture, and finding the one to resume from.

A checkpoint is a dict of tensors and plain Python values only (no pickled classes), so it loads with
``torch.load(weights_only=True)``. It is written to a temporary file in the same folder, flushed and
fsync'ed, then renamed over the target: a reader (or a run killed with ``kill -9`` mid-write) sees either
the old complete file or the new complete file, never a partial one.

Layout of a training checkpoint (``FORMAT`` = ``"action-ckpt/1"``)::

    {"format", "model", "optimizer", "scheduler", "scaler" (or None), "epoch" (epochs completed),
     "iteration" (optimizer steps taken), "batch_in_epoch" (batches of the current epoch done),
     "epoch_loss_sum" ([sum, count] of those batches' losses over all ranks), "rng": {"python", "numpy", "torch", "cuda"}, "best": {"metric", "value", "epoch"},
     "history": {...}, "meta": {"config", "classes", "world_size"}}
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
    "find_resume_checkpoint",
    "load_checkpoint",
    "model_state_from_checkpoint",
    "restore_rng_state",
    "save_checkpoint",
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
