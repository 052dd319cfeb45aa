"""Accuracy bookkeeping: top-k from class scores, mean +- std over splits, harmonic mean of base and novel."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["topk_correct", "topk_accuracy", "mean_std", "harmonic_mean"]


def topk_correct(scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[int, int]:
    """How many rows have their label among their ``k`` highest scores, for each ``k``.

    Args:
        scores: [N, C] class scores (logits or probabilities).
        labels: [N] class indices.
        ks: the k values; a k above C counts every row (top-5 of 3 classes is certain).

    Ties are broken by ``torch.topk`` (lowest index first), the same as an argmax.
    """
    if scores.ndim != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(f"scores must be [N, C] and labels [N], got {tuple(scores.shape)} and {tuple(labels.shape)}")
    if scores.shape[0] == 0:
        return {k: 0 for k in ks}
    kmax = min(max(ks), scores.shape[1])
    top = scores.topk(kmax, dim=1).indices  # [N, kmax]
    hits = top == labels.to(top.device)[:, None]
    return {k: int(hits[:, : min(k, kmax)].any(dim=1).sum()) for k in ks}


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Top-k accuracy in percent for each ``k`` (see `topk_correct`)."""
    if scores.shape[0] == 0:
        raise ValueError("no rows to score")
    return {k: 100.0 * c / scores.shape[0] for k, c in topk_correct(scores, labels, ks).items()}


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (ddof 0, as ``numpy.std``) of per-split or per-seed results."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("mean_std needs at least one value")
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def harmonic_mean(base: float, novel: float) -> float:
    """``2 * base * novel / (base + novel)``, the base-to-novel summary (0 when both are 0)."""
    if base < 0 or novel < 0:
        raise ValueError(f"accuracies must be non-negative, got {base}, {novel}")
    return 0.0 if base + novel == 0 else 2.0 * base * novel / (base + novel)
