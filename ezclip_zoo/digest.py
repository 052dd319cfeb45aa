"""Identities of tensors and files: a content digest (sha256 over names, dtypes, shapes and bytes) that survives
restarts, a cheap change token for in-process caches, and the sha256 of a file. Importing it needs no torch
(the torch-free `ezclip_zoo.runtime` checks files with `sha256_file`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["tensor_digest", "change_token", "sha256_file"]


def tensor_digest(named_tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """Hex sha256 over each tensor's name, dtype, shape and bytes: equal digests mean bit-identical tensors."""
    import torch

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


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
