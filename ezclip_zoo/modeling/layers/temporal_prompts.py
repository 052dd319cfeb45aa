"""The learnable temporal prompt vectors of the vision tower."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["TemporalPrompts"]


class TemporalPrompts(nn.Module):
    """One learnable vector per vision block and frame position: ``embeddings`` of shape [layers, T, width].

    Initialised uniform(-v, v) with v = sqrt(6 / (3 * 16 * 16 + width)); the reference fixes 16 * 16 whatever
    the patch size. Prompt dropout applies to the vectors at train time.
    """

    def __init__(self, layers: int, num_frames: int, width: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.embeddings = nn.Parameter(torch.empty(layers, num_frames, width))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw the vectors anew from uniform(-v, v), v = sqrt(6 / (3 * 16 * 16 + width))."""
        bound = math.sqrt(6.0 / (3 * 16 * 16 + self.embeddings.shape[-1]))
        nn.init.uniform_(self.embeddings, -bound, bound)

    @property
    def num_frames(self) -> int:
        """T, the frame positions the prompts have (a clip must have exactly T frames)."""
        return self.embeddings.shape[1]

    def forward(self, layer: int) -> torch.Tensor:
        """The (dropped-out) prompt vectors of block ``layer``: [T, width]."""
        vectors = self.embeddings[layer]
        return self.dropout(vectors) if self.training and self.dropout.p > 0 else vectors
