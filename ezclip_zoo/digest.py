"""Identities of tensors: a content digest (sha256 over names, dtypes, shapes and bytes) that survives restarts,
and a cheap change token for in-process caches."""

from __future__ import annotations

import hashlib
from typing import Iterable

import torch

__all__ = ["tensor_digest", "change_token"]


def tensor_digest(named_tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """Hex sha256 over each tensor's name, dtype, shape and bytes: equal digests mean bit-identical tensors."""
    h = hashlib.sha256()
    for name, tensor in named_tensors:
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def change_token(tensors: Iterable[torch.Tensor]) -> tuple:
    """A token that changes whenever any tensor is replaced (``.to()``, loading) or updated in place (its version
    counter, which every in-place op bumps), without reading the data: for keying in-memory caches."""
    return tuple((t.data_ptr(), t._version, t.dtype, str(t.device)) for t in tensors)
