"""Stochastic depth as the EZ-CLIP reference applies it."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TokenDropPath"]


class TokenDropPath(nn.Module):
    """Drop whole token positions of a residual branch, shared across the batch, at train time.

    The reference calls timm-style ``drop_path`` on sequence-first tensors ``[L, N, D]``, so its random mask has
    shape ``[L, 1, 1]``: each token position (each frame position, for the temporal prompts) is dropped for the
    whole batch, and kept ones are scaled by ``1 / (1 - p)``. The released checkpoints were trained that way, so
    fine-tuning reproduces it. Our tensors are batch-first ``[N, L, D]``, hence the mask ``[1, L, 1]``.
    """

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"drop-path rate must be in [0, 1), got {p}")
        self.p = float(p)

    @property
    def active(self) -> bool:
        """Whether `forward` drops anything now (train mode and a rate above 0); otherwise it is the identity."""
        return self.training and self.p > 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, L, D] -> [N, L, D]; the identity in eval mode or at rate 0."""
        if not self.active:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((1, x.shape[1], 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        """The drop rate, for ``print(module)``."""
        return f"p={self.p}"
