"""Pieces shared by both towers: per-block stochastic depth rates."""

from __future__ import annotations

from torch import nn

from ..layers import TokenDropPath

__all__ = ["drop_rates", "drop_paths"]


def drop_rates(max_rate: float, depth: int) -> list[float]:
    """The reference's stochastic-depth decay rule: ``linspace(0, max_rate, depth)``, one rate per block."""
    if depth == 1:
        return [0.0]
    return [max_rate * i / (depth - 1) for i in range(depth)]


def drop_paths(max_rate: float, depth: int) -> nn.ModuleList:
    """One `TokenDropPath` per block with the rates of `drop_rates`."""
    return nn.ModuleList(TokenDropPath(rate) for rate in drop_rates(max_rate, depth))
