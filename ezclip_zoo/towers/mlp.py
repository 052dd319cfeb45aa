"""The frozen CLIP MLP, run so that training keeps one activation per hidden unit instead of two.

OpenAI CLIP's MLP is ``c_proj(QuickGELU(c_fc(x)))`` with ``QuickGELU(h) = h * sigmoid(1.702 h)``. Run as plain ops,
autograd keeps ``h`` and ``sigmoid(1.702 h)`` for backward: two [N, L, 4W] tensors, the largest activations of a
ViT block. With the MLP frozen, ``c_fc`` and ``c_proj`` need no inputs for backward (their weights do not train),
so a QuickGELU that keeps only ``h`` and recomputes the sigmoid in backward (timm's "memory-efficient" activations
do the same) leaves one [N, L, 4W] tensor per block. Forward values come from the same ops in the same order, so
outputs are bit-identical to open_clip's.
"""

from __future__ import annotations

import torch
from open_clip.transformer import QuickGELU
from torch import nn

__all__ = ["mlp_forward", "quick_gelu"]


class _QuickGELU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(h)
        return h * torch.sigmoid(1.702 * h)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (h,) = ctx.saved_tensors
        s = torch.sigmoid(1.702 * h)
        # d/dh [h * s(1.702 h)] = s + 1.702 h s (1 - s)
        return grad * (s + 1.702 * h * s * (1.0 - s))


def quick_gelu(h: torch.Tensor) -> torch.Tensor:
    """``h * sigmoid(1.702 h)``, keeping only ``h`` for backward when a gradient is needed."""
    if torch.is_grad_enabled() and h.requires_grad:
        return _QuickGELU.apply(h)
    return h * torch.sigmoid(1.702 * h)


def mlp_forward(mlp: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run an open_clip block's ``mlp`` (``c_fc``, ``gelu``, ``c_proj``) on ``x`` [..., W] -> [..., W].

    The activation is swapped for `quick_gelu` when it is open_clip's ``QuickGELU``; any other activation (such as
    ``nn.GELU``, which already keeps only its input) and any other MLP layout run as the module itself.
    """
    if not isinstance(getattr(mlp, "gelu", None), QuickGELU) or not hasattr(mlp, "c_fc") or not hasattr(mlp, "c_proj"):
        return mlp(x)
    return mlp.c_proj(quick_gelu(mlp.c_fc(x)))
