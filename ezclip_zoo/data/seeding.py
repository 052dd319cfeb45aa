"""Per-sample random streams: what a clip's sampling and augmentation draw depends only on (seed, epoch, index),
never on worker processes, batch composition or where a resumed run started."""

from __future__ import annotations

import hashlib

import torch

__all__ = ["sample_seed", "sample_generator"]


def sample_seed(*keys: object) -> int:
    """A 63-bit seed from the given keys (stable across processes and Python versions, unlike ``hash``)."""
    digest = hashlib.blake2b("/".join(map(str, keys)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def sample_generator(*keys: object) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded from ``keys``, e.g. ``(seed, epoch, index)``."""
    return torch.Generator().manual_seed(sample_seed(*keys))
