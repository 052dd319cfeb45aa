"""The bottleneck adapter EZ-CLIP inserts in every transformer block of both towers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .residual import residual_linear

__all__ = ["Adapter"]


class Adapter(nn.Module):
    """``x + fc2(GELU(fc1(x)))`` with an exact (erf) GELU and no scale.

    ``fc2`` starts at zero, so a freshly built adapter is the identity and an untrained EZ-CLIP equals its CLIP.

    Args:
        width: token width D.
        ratio: bottleneck width as a fraction of ``width`` (``int(width * ratio)``, as the reference computes it).
    """

    def __init__(self, width: int, ratio: float = 0.25) -> None:
        super().__init__()
        hidden = int(width * ratio)
        if hidden < 1:
            raise ValueError(f"adapter bottleneck int({width} * {ratio}) is empty; use a larger adapter_ratio")
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """fc1: PyTorch's default Linear init; fc2: zeros (identity adapter)."""
        self.fc1.reset_parameters()
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., D] -> [..., D]."""
        # functional calls rather than submodule calls: this is the block's smallest GEMM pair, where the
        # per-call overhead shows
        hidden = F.gelu(F.linear(x, self.fc1.weight, self.fc1.bias))
        return residual_linear(x, hidden, self.fc2)
