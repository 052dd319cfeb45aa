"""Pieces shared by both towers: per-block stochastic depth rates and the residual step."""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from ..layers import TokenDropPath

__all__ = ["drop_rates", "drop_paths", "add_branch"]

Branch = Callable[[Optional[torch.Tensor]], torch.Tensor]  # branch(residual): its output, plus residual if given


def add_branch(x: torch.Tensor, drop_path: TokenDropPath, branch: Branch) -> torch.Tensor:
    """One residual step ``x + drop_path(branch)``.

    When drop-path is the identity (inference, or a rate of 0) the branch is handed ``x`` and adds it inside its
    last GEMM (`residual_linear`), which saves a pass over the tokens; with drop-path active the dropped branch
    output is added here.
    """
    if drop_path.active:
        return x + drop_path(branch(None))
    return branch(x)


def drop_rates(max_rate: float, depth: int) -> list[float]:
    """The reference's stochastic-depth decay rule: ``linspace(0, max_rate, depth)``, one rate per block."""
    if depth == 1:
        return [0.0]
    return [max_rate * i / (depth - 1) for i in range(depth)]


def drop_paths(max_rate: float, depth: int) -> nn.ModuleList:
    """One `TokenDropPath` per block with the rates of `drop_rates`."""
    return nn.ModuleList(TokenDropPath(rate) for rate in drop_rates(max_rate, depth))
