"""Approximate nearest neighbours with faiss (the optional extra ``search``): an inverted-file index over inner
products, and recall@k against exact search to say what it costs."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["build_ann", "recall_at_k"]


def _faiss() -> Any:  # the faiss module (faiss ships no type information)
    try:
        import faiss
    except ImportError:
        raise ImportError("approximate search needs faiss: pip install 'ezclip-zoo[search]' (faiss-cpu)") from None
    return faiss


def build_ann(embeddings: torch.Tensor, *, nprobe: int = 16, seed: int = 0) -> Any:
    """A faiss inverted-file index (``IndexIVFFlat``, inner product) over normalised float32 rows [N, E]:
    about ``4 sqrt(N)`` k-means cells (at most 1024) trained on a sample of at most 64 rows per cell, ``nprobe``
    cells scanned per query. ``search(q, k)`` returns (scores, indices) arrays [Q, k] (-1 where fewer than k were
    found)."""
    faiss = _faiss()
    rows, dim = embeddings.shape
    data = embeddings.float().contiguous().numpy()
    cells = max(1, min(int(4 * rows**0.5), rows // 39 or 1, 1024))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, cells, faiss.METRIC_INNER_PRODUCT)
    sample = data
    if rows > 64 * cells:
        pick = torch.randperm(rows, generator=torch.Generator().manual_seed(seed))[: 64 * cells]
        sample = data[pick.sort().values.numpy()]
    index.train(sample)
    index.add(data)
    index.nprobe = min(nprobe, cells)
    return index


def recall_at_k(exact: torch.Tensor, approx: torch.Tensor) -> float:
    """Mean fraction of the exact top-k indices [Q, k] that the approximate top-k [Q, k] also found."""
    found = [len(set(e.tolist()) & set(a.tolist())) / exact.shape[1] for e, a in zip(exact, approx, strict=True)]
    return sum(found) / len(found)
