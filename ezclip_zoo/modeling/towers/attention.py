"""Multi-head self-attention computed from an ``nn.MultiheadAttention``'s frozen weights with fused SDPA.

Calling the weights directly (rather than the module) lets the spatial attention take its keys and values from
one more token than its queries, and routes every call through ``F.scaled_dot_product_attention``.

The reference trains with attention dropout. CUDA's fused SDPA kernels apply dropout without storing the attention
matrix; on CPU, SDPA falls back to its math form and keeps several [N, H, L, L] tensors per block for backward
(about 0.5 GB per 8-frame B/16 clip). There `_DropoutAttention` keeps only q, k, v and a seed, and recomputes the
probabilities and the same dropout mask in backward, as flash attention does.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["self_attention", "attention_with_extra_token"]

AttentionSink = Optional[list]  # a list that receives the attention probabilities [N, H, Lq, Lk] of a call


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[N, L, D] -> [N, H, L, D / H]."""
    n, length, width = x.shape
    return x.view(n, length, heads, width // heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    """[N, H, L, Dh] -> [N, L, H * Dh]."""
    n, h, length, dh = x.shape
    return x.transpose(1, 2).reshape(n, length, h * dh)


def _math_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float, causal: bool, seed: int
) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) with dropout (mask drawn from ``seed``) @ v; q [N, H, Lq, d], k/v [N, H, Lk, d]."""
    scores = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if causal:
        future = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    probs = scores.softmax(dim=-1)
    generator = torch.Generator(device=q.device).manual_seed(seed)
    keep = torch.empty_like(probs).bernoulli_(1.0 - dropout_p, generator=generator)
    return (probs * keep) @ v / (1.0 - dropout_p)


class _DropoutAttention(torch.autograd.Function):
    """Attention with dropout that saves q, k, v and a seed instead of the [N, H, L, L] probabilities and mask."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cpu")  # backward recomputes under the same autocast state as forward
    def forward(ctx, q, k, v, dropout_p: float, causal: bool):
        # Drawn from the global generator: reproducible under torch.manual_seed, and replayed exactly when
        # activation checkpointing restores the RNG state to recompute a block.
        seed = int(torch.randint(0, 2**62, (1,)).item())
        ctx.save_for_backward(q, k, v)
        ctx.dropout_p, ctx.causal, ctx.seed = dropout_p, causal, seed
        return _math_attention(q, k, v, dropout_p, causal, seed)

    @staticmethod
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad: torch.Tensor):
        inputs = [t.detach().requires_grad_(needed) for t, needed in zip(ctx.saved_tensors, ctx.needs_input_grad)]
        wanted = [t for t in inputs if t.requires_grad]
        with torch.enable_grad():
            out = _math_attention(*inputs, ctx.dropout_p, ctx.causal, ctx.seed)
            grads = iter(torch.autograd.grad(out, wanted, grad))
        return tuple(next(grads) if t.requires_grad else None for t in inputs) + (None, None)


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool, dropout_p: float) -> torch.Tensor:
    """``F.scaled_dot_product_attention`` on [N, H, L, d], except training-time dropout on CPU (see module doc)."""
    if dropout_p > 0.0 and q.device.type == "cpu" and torch.is_grad_enabled():
        return _DropoutAttention.apply(q, k, v, dropout_p, causal)
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=causal)


def _recorded_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float, sink: list
) -> torch.Tensor:
    """The math form ``softmax(q k^T / sqrt(d)) @ v`` that appends the probabilities [N, H, Lq, Lk] to ``sink``.

    Only for an attention capture (`VideoTower.capture_attention`): the probabilities stay in the autograd graph,
    so gradients with respect to them exist. Equal to SDPA up to float rounding; the normal path never runs it.
    """
    probs = ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
    sink.append(probs)
    return F.dropout(probs, p=dropout_p) @ v if dropout_p > 0.0 else probs @ v


def self_attention(
    attn: nn.MultiheadAttention, x: torch.Tensor, *, causal: bool = False, dropout_p: float = 0.0,
    sink: AttentionSink = None,
) -> torch.Tensor:
    """Self-attention of ``x`` [N, L, D] (already layer-normed) -> [N, L, D], output projection included.

    ``sink`` (a list, non-causal only) receives the attention probabilities [N, H, L, L]; see `_recorded_attention`.
    """
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    heads = attn.num_heads
    q, k, v = _heads(q, heads), _heads(k, heads), _heads(v, heads)
    if sink is not None:
        if causal:
            raise ValueError("attention probabilities are recorded for non-causal attention only")
        return attn.out_proj(_merge(_recorded_attention(q, k, v, dropout_p, sink)))
    out = _attention(q, k, v, causal=causal, dropout_p=dropout_p)
    return attn.out_proj(_merge(out))


def attention_with_extra_token(
    attn: nn.MultiheadAttention, x: torch.Tensor, extra: torch.Tensor, *, dropout_p: float = 0.0,
    sink: AttentionSink = None,
) -> torch.Tensor:
    """Attention of the L tokens ``x`` [N, L, D] over themselves plus one extra token ``extra`` [N, 1, D].

    Equals running self-attention over ``cat([x, extra], 1)`` and dropping the extra token's output (what the
    reference does with the temporal prompt token), without computing that output. Inputs are layer-normed.
    ``sink`` (a list) receives the probabilities [N, H, L, L + 1], the extra token's key last.
    """
    length = x.shape[1]
    q, k, v = F.linear(torch.cat([x, extra], dim=1), attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    heads = attn.num_heads
    q, k, v = _heads(q[:, :length], heads), _heads(k, heads), _heads(v, heads)
    if sink is not None:
        return attn.out_proj(_merge(_recorded_attention(q, k, v, dropout_p, sink)))
    out = _attention(q, k, v, causal=False, dropout_p=dropout_p)
    return attn.out_proj(_merge(out))
