"""Pieces shared by both towers: per-block stochastic depth rates, the residual step and the layer norm call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeGuard

import torch
import torch.nn.functional as F
from open_clip.transformer import LayerNorm as CastBackLayerNorm
from torch import nn

from ..layers import TokenDropPath

__all__ = ["drop_rates", "drop_paths", "add_branch", "layer_norm"]

Branch = Callable[[torch.Tensor | None], torch.Tensor]  # branch(residual): its output, plus residual if given


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


def layer_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``norm(x)`` for a block's frozen layer norm, as one ``F.layer_norm`` call when ``norm`` is exactly
    ``nn.LayerNorm`` or open_clip's ``LayerNorm`` (which casts back to the input dtype); any other norm (such as
    open_clip's ``LayerNormFp32``) runs as its module.

    What this saves is the module call (about 15 us on a CPU, which is a third of normalising a [8, 768] prompt
    row), paid several times per block; the result is the module's own.
    """
    hooked = norm._forward_hooks or norm._forward_pre_hooks  # someone watches the module: call it
    if hooked or not _plain_layer_norm(norm):
        return norm(x)
    out = F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
    return out.to(x.dtype) if type(norm) is CastBackLayerNorm else out  # what each module's forward returns


def _plain_layer_norm(norm: nn.Module) -> TypeGuard[nn.LayerNorm]:
    """Whether ``norm`` is exactly ``nn.LayerNorm`` or open_clip's ``LayerNorm`` (a subclass), not a further one."""
    return type(norm) in (nn.LayerNorm, CastBackLayerNorm)
