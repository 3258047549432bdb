"""Distributed data-parallel plumbing: process-group setup, samplers and exactly-once result gathering.

Launch with ``torchrun``; the engine reads the ``env://`` variables it sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and picks ``nccl`` on GPUs, ``gloo`` on CPU.

One machine, 4 GPUs::

    torchrun --nproc-per-node 4 -m action_core.cli.main train CONFIG --work-dir runs/x

Several machines (run the same command on every node; ``NODE0`` is any reachable host name of node 0,
the rendezvous id must be the same on all nodes and unique per job)::

    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint NODE0:29500 \\
        --rdzv-id my-job-42 -m action_core.cli.main train CONFIG --work-dir /shared/runs/x

The work dir should be on a shared file system when nodes must resume from the same checkpoints; only
global rank 0 writes checkpoints and logs.
"""

from __future__ import annotations

import atexit
import math
import os
from collections.abc import Iterator
from typing import Any

import attrs
import torch
import torch.distributed as dist
from torch.utils.data import Sampler

__all__ = [
    "DistInfo",
    "EvalShardSampler",
    "ResumableTrainSampler",
    "all_gather_objects",
    "all_reduce_max",
    "barrier",
    "dist_info",
    "init_distributed",
]


@attrs.frozen
class DistInfo:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Global rank 0: the one that writes checkpoints, logs and results."""
        return self.rank == 0


def dist_info() -> DistInfo:
    """Rank, world size and local rank of this process (a single process when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return DistInfo()


def init_distributed(device: torch.device | None = None) -> DistInfo:
    """Join the ``torchrun`` job described by the environment, once per process.

    Does nothing when ``WORLD_SIZE`` is unset or 1. Uses ``nccl`` when ``device`` is a CUDA device (and
    selects ``cuda:LOCAL_RANK``), ``gloo`` otherwise. The group is destroyed at interpreter exit.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 or not dist.is_available():
        return DistInfo()
    if not dist.is_initialized():
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = device is not None and device.type == "cuda"
        if use_cuda:
            torch.cuda.set_device(local_rank)
        for key in ("MASTER_ADDR", "MASTER_PORT", "RANK"):
            if key not in os.environ:
                raise RuntimeError(
                    f"WORLD_SIZE={world_size} is set but {key} is not; launch distributed runs with torchrun "
                    "(e.g. `torchrun --nproc-per-node 2 -m action_core.cli.main train ...`)"
                )
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", init_method="env://")
        atexit.register(_destroy)
    return dist_info()


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_reduce_max(value: float, device: torch.device) -> float:
    """The largest ``value`` over all ranks (the value itself when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` in rank order (``[obj]`` when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


class ResumableTrainSampler(Sampler[int]):
    """Shuffled, rank-sharded training order that can restart in the middle of an epoch.

    The order of epoch ``e`` depends only on ``seed`` and ``e``, so a resumed run sees the same samples as
    an uninterrupted one. Like ``DistributedSampler`` it pads the permutation (repeating its start) so every
    rank gets the same number of samples, which DDP needs; :meth:`skip` drops the first samples of the
    current epoch (the batches a checkpoint already covered).
    """

    def __init__(
        self, length: int, *, shuffle: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1
    ):
        if length <= 0:
            raise ValueError("the training dataset is empty; check its split and annotation file")
        self.length = length
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start = 0
        self.per_rank = math.ceil(length / world_size)

    def set_epoch(self, epoch: int) -> None:
        """Select the order of ``epoch`` and start from its beginning."""
        self.epoch = epoch
        self.start = 0

    def skip(self, samples: int) -> None:
        """Begin the current epoch after its first ``samples`` samples (of this rank)."""
        self.start = max(0, min(samples, self.per_rank))

    def _order(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.length, generator=generator).tolist()
        else:
            order = list(range(self.length))
        total = self.per_rank * self.world_size
        while len(order) < total:
            order += order[: total - len(order)]
        return order[self.rank : total : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self._order()[self.start :])

    def __len__(self) -> int:
        return self.per_rank - self.start


class EvalShardSampler(Sampler[int]):
    """A contiguous, unpadded share of the dataset for one rank: every sample is evaluated exactly once."""

    def __init__(self, length: int, *, rank: int = 0, world_size: int = 1):
        self.begin = length * rank // world_size
        self.end = length * (rank + 1) // world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.begin, self.end))

    def __len__(self) -> int:
        return self.end - self.begin
