"""Seeded subsets of a split: K-shot training sets, a validation hold-out, base/novel class halves."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .records import VideoSplit

__all__ = ["sample_k_shot", "train_val_split", "base_novel_classes"]


def _by_class(split: VideoSplit) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in split.classes]
    for i, record in enumerate(split.records):
        groups[record.label].append(i)
    return groups


def sample_k_shot(split: VideoSplit, k: int, seed: int, *, classes: Sequence[str] | None = None) -> VideoSplit:
    """K videos of every class, drawn without replacement with ``seed`` (the few-shot and base-to-novel protocol
    of ViFi-CLIP: each of its three seeds gives one training set).

    Args:
        split: the full training split.
        k: videos per class.
        seed: the draw; the same (split, k, seed) always gives the same videos.
        classes: draw only these classes (e.g. the base classes) and relabel them in this order.

    Returns:
        A `VideoSplit` of ``k * number of classes`` records, grouped by class.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if classes is not None:
        split = split.restrict_classes(classes)
    groups = _by_class(split)
    short = [(split.classes[c], len(g)) for c, g in enumerate(groups) if len(g) < k]
    if short:
        raise ValueError(f"{len(short)} classes have fewer than k={k} videos, e.g. {short[:5]} (class, videos)")
    rng = random.Random(seed)
    chosen = [i for group in groups for i in sorted(rng.sample(group, k))]
    return split.subset(chosen, name=f"{split.name}/{k}-shot/seed{seed}")


def train_val_split(split: VideoSplit, val_fraction: float = 0.1, seed: int = 0) -> tuple[VideoSplit, VideoSplit]:
    """Hold out a stratified validation set from a training split, for model selection.

    Every class with at least 2 videos gives ``max(1, round(val_fraction * n))`` of them to validation. Use this
    instead of the test split for choosing checkpoints: the reference picked its best epoch on the test set.

    Returns:
        ``(train, val)``, disjoint, covering ``split``.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    rng = random.Random(seed)
    train_idx, val_idx = [], []
    for group in _by_class(split):
        group = list(group)
        rng.shuffle(group)
        n_val = max(1, round(val_fraction * len(group))) if len(group) >= 2 else 0
        val_idx += group[:n_val]
        train_idx += group[n_val:]
    if not val_idx:
        raise ValueError(f"{split.name}: no class has 2 videos, nothing can be held out for validation")
    return (
        split.subset(sorted(train_idx), name=f"{split.name}/train"),
        split.subset(sorted(val_idx), name=f"{split.name}/val"),
    )


def base_novel_classes(classes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split a class list into base (first half, rounded up) and novel (second half) in its given order.

    ViFi-CLIP's base-to-novel protocol ships fixed class lists; pass those (`read_class_list`) where you have
    them. This halving is the convention for datasets without such files.
    """
    classes = list(classes)
    if len(classes) < 2:
        raise ValueError("base-to-novel needs at least 2 classes")
    half = (len(classes) + 1) // 2
    return classes[:half], classes[half:]
