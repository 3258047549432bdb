"""``build_dataloader``: a DataLoader with reproducible shuffling and per-worker random state."""

from __future__ import annotations

import ctypes
import functools
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the system (Linux/glibc only).

    By default glibc serves every block over 32 MB, and hands back large freed blocks, straight from and to the
    kernel, so each clip's tens of MB of fresh buffers are page-faulted in anew; on the dev machine that made
    ``Normalize`` 3x and decoding 1.4x slower. Raising the mmap and trim thresholds keeps them in the heap.
    Returns whether the setting took effect.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 256 << 20) == 1
        return bool(libc.mallopt(m_trim_threshold, 512 << 20) == 1 and ok)
    except (OSError, AttributeError):
        return False


def seed_worker(worker_id: int) -> None:
    """Seed NumPy, ``random`` and torch in a DataLoader worker from the seed torch gave it.

    torch gives worker ``i`` the seed ``base_seed + i``, where ``base_seed`` is drawn from the loader's
    generator at the start of every epoch: each worker, each epoch gets its own stream, reproducibly.
    """
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)


def _init_worker(worker_id: int, *, tune_memory: bool) -> None:
    seed_worker(worker_id)
    if tune_memory:
        keep_freed_memory()


def _dist_info(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    if num_replicas is not None and rank is not None:
        return num_replicas, rank
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "build_dataloader(distributed=True) needs an initialised torch.distributed process group "
            "(or explicit num_replicas and rank)"
        )
    return dist.get_world_size(), dist.get_rank()


def build_dataloader(
    dataset: Dataset,
    *,
    batch_size: int,
    num_workers: int = 0,
    shuffle: bool,
    seed: int = 0,
    drop_last: bool = False,
    distributed: bool = False,
    pin_memory: bool | None = None,
    persistent_workers: bool | None = None,
    prefetch_factor: int | None = None,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    num_replicas: int | None = None,
    rank: int | None = None,
    tune_memory: bool = True,
) -> DataLoader:
    """Build a DataLoader whose order and augmentations depend only on ``seed`` (and the epoch).

    - The loader's ``generator`` is seeded with ``seed + rank`` (it shuffles when not distributed and
      seeds the workers); each worker seeds NumPy, ``random`` and torch (:func:`seed_worker`).
    - ``distributed``: a :class:`DistributedSampler` (seeded with ``seed``, same on all ranks) splits the data;
      call :func:`set_epoch` before each epoch so the shuffle changes. ``num_replicas``/``rank`` default to
      the process group's.
    - ``pin_memory`` defaults to CUDA being available; ``persistent_workers`` to ``num_workers > 0``;
      ``prefetch_factor`` is only passed with workers.
    - ``tune_memory``: apply :func:`keep_freed_memory` in the processes that run the pipeline (the workers, or
      this process when ``num_workers == 0``).
    """
    if tune_memory and num_workers == 0:
        keep_freed_memory()
    sampler: Any = None
    rank_offset = 0
    if distributed:
        replicas, rank_offset = _dist_info(num_replicas, rank)
        sampler = DistributedSampler(
            dataset, num_replicas=replicas, rank=rank_offset, shuffle=shuffle, seed=seed, drop_last=drop_last
        )
    generator = torch.Generator()
    generator.manual_seed(seed + rank_offset)
    kwargs: dict[str, Any] = {}
    if num_workers > 0:
        kwargs["persistent_workers"] = True if persistent_workers is None else persistent_workers
        if prefetch_factor is not None:
            kwargs["prefetch_factor"] = prefetch_factor
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_fn,
        pin_memory=torch.cuda.is_available() if pin_memory is None else pin_memory,
        drop_last=drop_last,
        worker_init_fn=functools.partial(_init_worker, tune_memory=tune_memory),
        generator=generator,
        **kwargs,
    )


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Tell the loader's sampler the epoch (reshuffles a :class:`DistributedSampler`); a no-op otherwise."""
    set_sampler_epoch = getattr(getattr(loader, "sampler", None), "set_epoch", None)
    if callable(set_sampler_epoch):
        set_sampler_epoch(epoch)
