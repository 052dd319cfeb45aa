"""A `DistributedSampler` that can start part-way through an epoch, for exact resumption of training."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from torch.utils.data import Dataset, DistributedSampler

__all__ = ["ResumableDistributedSampler"]


class ResumableDistributedSampler(DistributedSampler):
    """``torch.utils.data.DistributedSampler`` (same order for the same seed, epoch, rank and world size) that
    skips the first ``start`` indices of this rank's share of the epoch.

    Works without an initialised process group: ``num_replicas=1, rank=0`` is one process.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        *,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
        self.start = 0

    def set_start(self, start: int) -> None:
        """Skip the first ``start`` samples of this rank's share (of the current epoch only)."""
        if not 0 <= start <= self.num_samples:
            raise ValueError(f"start must be in 0..{self.num_samples}, got {start}")
        self.start = int(start)

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``'s shuffle (as torch's sampler) from its first sample: any `set_start` is reset."""
        super().set_epoch(epoch)
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(super().__iter__(), self.start, None)

    def __len__(self) -> int:
        return self.num_samples - self.start
