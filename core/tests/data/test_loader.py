"""build_dataloader: reproducible order and augmentation, worker seeding, distributed split."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from action_core.data import build_dataloader, set_epoch


class RandomDraws(Dataset):
    """Each item reports draws from NumPy, ``random`` and torch in the process that built it."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        draws = torch.tensor(
            [np.random.random(), random.random(), torch.rand(()).item()], dtype=torch.float64
        )
        return {"index": index, "draws": draws}


def _epoch(loader) -> tuple[list[int], torch.Tensor]:
    order, draws = [], []
    for batch in loader:
        order += batch["index"].tolist()
        draws.append(batch["draws"])
    return order, torch.cat(draws)


def test_same_seed_same_order_and_augmentation_with_workers() -> None:
    def make(seed: int):
        return build_dataloader(RandomDraws(), batch_size=2, num_workers=2, shuffle=True, seed=seed)

    a, b, c = make(0), make(0), make(1)
    order_a, draws_a = _epoch(a)
    order_b, draws_b = _epoch(b)
    order_c, draws_c = _epoch(c)
    assert order_a == order_b and torch.equal(draws_a, draws_b)
    assert order_a != order_c and not torch.equal(draws_a, draws_c)
    assert sorted(order_a) == list(range(8))
    # workers get different streams, in all three libraries
    for k in range(3):
        assert len(set(draws_a[:, k].tolist())) == 8
    # a second epoch draws new augmentations, still reproducibly
    order_a2, draws_a2 = _epoch(a)
    order_b2, draws_b2 = _epoch(b)
    assert not torch.equal(draws_a, draws_a2)
    assert order_a2 == order_b2 and torch.equal(draws_a2, draws_b2)


def test_defaults_for_worker_options() -> None:
    loader = build_dataloader(RandomDraws(), batch_size=4, num_workers=1, shuffle=False, prefetch_factor=3)
    assert loader.persistent_workers and loader.prefetch_factor == 3
    assert loader.pin_memory == torch.cuda.is_available()
    plain = build_dataloader(RandomDraws(), batch_size=4, shuffle=False)
    assert not plain.persistent_workers and [b["index"].tolist() for b in plain] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
    ]


def test_distributed_split_and_set_epoch() -> None:
    loaders = [
        build_dataloader(
            RandomDraws(), batch_size=2, shuffle=True, seed=3, distributed=True, num_replicas=2, rank=r
        )
        for r in range(2)
    ]
    assert all(isinstance(ld.sampler, DistributedSampler) for ld in loaders)
    parts = [_epoch(ld)[0] for ld in loaders]
    assert sorted(parts[0] + parts[1]) == list(range(8))
    set_epoch(loaders[0], 1)
    assert _epoch(loaders[0])[0] != parts[0]


def test_keep_freed_memory_applies_on_glibc() -> None:
    import platform

    from action_core.data import keep_freed_memory

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is expected
