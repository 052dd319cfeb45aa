"""The class texts of a training run: checked against the dataset, tokenized once, one text drawn per clip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import Dataset

from ..data.seeding import sample_seed

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["check_class_texts", "TextTable"]


def check_class_texts(class_texts: Sequence[Sequence[str]], dataset: Dataset[Any]) -> list[list[str]]:
    texts = [list(t) for t in class_texts]
    if not texts or any(not t or not all(isinstance(s, str) and s for s in t) for t in texts):
        raise ValueError("class_texts must give every class at least one non-empty text")
    classes = getattr(dataset, "classes", None)
    if classes is not None and len(classes) != len(texts):
        raise ValueError(f"class_texts has {len(texts)} classes, the dataset {len(classes)}")
    return texts


class TextTable:
    """Token ids of every class text, tokenized once; picks one text per clip deterministically."""

    def __init__(self, model: EZCLIP, class_texts: list[list[str]], seed: int) -> None:
        self.counts = [len(t) for t in class_texts]
        flat = [s for t in class_texts for s in t]
        self.offsets = [sum(self.counts[:c]) for c in range(len(class_texts))]
        self.tokens = model.tokenize(flat).cpu()
        self.seed = seed

    def batch(self, labels: torch.Tensor, indices: torch.Tensor, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unique token rows [U, L] for the clips and, per clip, the row of its text [B]."""
        rows = []
        for label, index in zip(labels.tolist(), indices.tolist(), strict=True):
            n = self.counts[label]
            choice = 0 if n == 1 else sample_seed(self.seed, epoch, index, "text") % n
            rows.append(self.offsets[label] + choice)
        unique, inverse = torch.unique(torch.tensor(rows), return_inverse=True)
        tokens = self.tokens[unique]
        length = int((tokens != 0).sum(dim=1).max())  # trim padding; the causal mask makes it exact
        return tokens[:, :length], inverse
