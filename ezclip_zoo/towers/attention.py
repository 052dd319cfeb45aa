"""Multi-head self-attention computed from an ``nn.MultiheadAttention``'s frozen weights with fused SDPA.

Calling the weights directly (rather than the module) lets the spatial attention take its keys and values from
one more token than its queries, and routes every call through ``F.scaled_dot_product_attention``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["self_attention", "attention_with_extra_token"]


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[N, L, D] -> [N, H, L, D / H]."""
    n, length, width = x.shape
    return x.view(n, length, heads, width // heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """[N, H, L, Dh] -> [N, L, H * Dh]."""
    n, h, length, dh = x.shape
    return x.transpose(1, 2).reshape(n, length, h * dh)


def self_attention(
    attn: nn.MultiheadAttention, x: torch.Tensor, *, causal: bool = False, dropout_p: float = 0.0
) -> torch.Tensor:
    """Self-attention of ``x`` [N, L, D] (already layer-normed) -> [N, L, D], output projection included."""
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    heads = attn.num_heads
    out = F.scaled_dot_product_attention(
        _heads(q, heads), _heads(k, heads), _heads(v, heads), dropout_p=dropout_p, is_causal=causal
    )
    return attn.out_proj(_merge(out))


def attention_with_extra_token(
    attn: nn.MultiheadAttention, x: torch.Tensor, extra: torch.Tensor, *, dropout_p: float = 0.0
) -> torch.Tensor:
    """Attention of the L tokens ``x`` [N, L, D] over themselves plus one extra token ``extra`` [N, 1, D].

    Equals running self-attention over ``cat([x, extra], 1)`` and dropping the extra token's output (what the
    reference does with the temporal prompt token), without computing that output. Inputs are layer-normed.
    """
    length = x.shape[1]
    q, k, v = F.linear(torch.cat([x, extra], dim=1), attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    heads = attn.num_heads
    out = F.scaled_dot_product_attention(
        _heads(q[:, :length], heads), _heads(k, heads), _heads(v, heads), dropout_p=dropout_p
    )
    return attn.out_proj(_merge(out))
