"""Multi-head self-attention computed from an ``nn.MultiheadAttention``'s frozen weights with fused SDPA.

Calling the weights directly (rather than the module) lets the spatial attention take its keys and values from
one more token than its queries, and routes every call through ``F.scaled_dot_product_attention``.

The reference trains with attention dropout. CUDA's fused SDPA kernels apply dropout without storing the attention
matrix; on CPU, SDPA falls back to its math form and keeps several [N, H, L, L] tensors per block for backward
(about 0.5 GB per 8-frame B/16 clip). There `_DropoutAttention` keeps only q, k, v and a seed, and recomputes the
probabilities and the same dropout mask in backward, as flash attention does.

Inference on CPU runs whichever of SDPA's fused kernel and the math form on contiguous q, k, v is faster on this
machine, for this dtype and shape (`ezclip_zoo.modeling.kernels`: timed once per process). On 2 threads of an AMD
EPYC the math form won in bfloat16 at ViT lengths (inside the 8-frame encoder, EZ/CLIP 1.09 -> 1.04 for B/16) and
lost in float32 (0.96 vs 1.01); with AMX the answer can differ, hence the measurement. Where nothing is timed
(tracing, compiling) the EPYC rule is the default: the math form in reduced precision from `_MATH_MIN_KEYS` keys,
SDPA otherwise. The [N, H, L, L] scores the math form materialises are bounded (`_MATH_SCORES_BYTES`); larger calls
keep the fused kernel.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..kernels import choose
from ..layers import residual_linear

__all__ = ["multi_head_attention", "self_attention", "qkv_projection", "with_extra_key_value"]

AttentionSink = list[torch.Tensor] | None  # a list that receives the attention probabilities [N, H, Lq, Lk] of a call


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
    def forward(  # ctx: autograd's context object, which carries attributes set here into backward
        ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float, causal: bool
    ) -> torch.Tensor:
        # Drawn from the global generator: reproducible under torch.manual_seed, and replayed exactly when
        # activation checkpointing restores the RNG state to recompute a block.
        seed = int(torch.randint(0, 2**62, (1,)).item())
        ctx.save_for_backward(q, k, v)
        ctx.dropout_p, ctx.causal, ctx.seed = dropout_p, causal, seed
        return _math_attention(q, k, v, dropout_p, causal, seed)

    @staticmethod
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        # needs_input_grad has one flag per forward input (q, k, v, dropout_p, causal): the first three pair up
        saved = zip(ctx.saved_tensors, ctx.needs_input_grad, strict=False)
        q, k, v = inputs = [t.detach().requires_grad_(needed) for t, needed in saved]
        wanted = [t for t in inputs if t.requires_grad]
        with torch.enable_grad():
            out = _math_attention(q, k, v, ctx.dropout_p, ctx.causal, ctx.seed)
            grads = iter(torch.autograd.grad(out, wanted, grad))
        return tuple(next(grads) if t.requires_grad else None for t in inputs) + (None, None)


_MATH_SCORES_BYTES = 256 * 2**20  # largest [N, H, Lq, Lk] score tensor the CPU math path may hold
_MATH_MIN_KEYS = 32  # below this, the default is the fused kernel (the T temporal prompt tokens)


def _math_eligible(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, dropout_p: float) -> bool:
    """Whether the math form may replace SDPA here: CPU inference (no mask, no dropout, nothing for autograd to
    save) whose [N, H, Lq, Lk] scores fit in `_MATH_SCORES_BYTES`."""
    if q.device.type != "cpu" or causal or dropout_p > 0.0:
        return False
    if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
        return False
    if (torch.compiler.is_compiling() or torch.jit.is_tracing()) and _default_kernel(q, k) != "math":
        return False  # a traced graph keeps the default, SDPA, without a guard on the (dynamic) batch size
    n, h, lq, _ = q.shape
    return n * h * lq * k.shape[-2] * q.element_size() <= _MATH_SCORES_BYTES


def _default_kernel(q: torch.Tensor, k: torch.Tensor) -> str:
    """What runs when nothing is timed (`ezclip_zoo.modeling.kernels`): the math form in bfloat16 / float16 at ViT
    lengths (faster on 2 AMD EPYC threads, see the module docstring), SDPA otherwise."""
    return "math" if q.dtype in (torch.bfloat16, torch.float16) and k.shape[-2] >= _MATH_MIN_KEYS else "sdpa"


def _math_form(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d)) @ v`` as two batched GEMMs on contiguous operands (q scaled on the way)."""
    scores = torch.matmul(q * q.shape[-1] ** -0.5, k.contiguous().transpose(-2, -1))
    return torch.matmul(scores.softmax(dim=-1), v.contiguous())


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool, dropout_p: float) -> torch.Tensor:
    """Attention on [N, H, L, d]: ``F.scaled_dot_product_attention``, except training-time dropout on CPU and CPU
    inference, where the faster of SDPA and the math form on this machine runs (`kernels.choose`)."""
    if dropout_p > 0.0 and q.device.type == "cpu" and torch.is_grad_enabled():
        return _DropoutAttention.apply(q, k, v, dropout_p, causal)
    if _math_eligible(q, k, v, causal, dropout_p):
        runners = {"sdpa": lambda: F.scaled_dot_product_attention(q, k, v), "math": lambda: _math_form(q, k, v)}
        key = (q.dtype, tuple(q.shape), tuple(k.shape))
        return runners[choose("attention", key, q.device, runners, _default_kernel(q, k))]()
    return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=causal)


def _recorded_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float, sink: list[torch.Tensor]
) -> torch.Tensor:
    """The math form ``softmax(q k^T / sqrt(d)) @ v`` that appends the probabilities [N, H, Lq, Lk] to ``sink``.

    Only for an attention capture (`VideoTower.capture_attention`): the probabilities stay in the autograd graph,
    so gradients with respect to them exist. Equal to SDPA up to float rounding; the normal path never runs it.
    """
    probs = ((q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
    sink.append(probs)
    return F.dropout(probs, p=dropout_p) @ v if dropout_p > 0.0 else probs @ v


def multi_head_attention(
    attn: nn.MultiheadAttention,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    causal: bool = False,
    dropout_p: float = 0.0,
    sink: AttentionSink = None,
    residual: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention of projected queries ``q`` [N, Lq, D] over keys/values ``k``, ``v`` [N, Lk, D], output
    projection included: [N, Lq, D] (plus ``residual`` [N, Lq, D], added inside the projection's GEMM, if given).

    ``sink`` (a list, non-causal only) receives the attention probabilities [N, H, Lq, Lk]; see
    `_recorded_attention`. Strided views (slices of a packed QKV tensor) are taken as they are.
    """
    heads = attn.num_heads
    q, k, v = _heads(q, heads), _heads(k, heads), _heads(v, heads)
    if sink is not None:
        if causal:
            raise ValueError("attention probabilities are recorded for non-causal attention only")
        out = _merge(_recorded_attention(q, k, v, dropout_p, sink))
    else:
        out = _merge(_attention(q, k, v, causal=causal, dropout_p=dropout_p))
    if residual is None:
        return F.linear(out, attn.out_proj.weight, attn.out_proj.bias)
    return residual_linear(residual, out, attn.out_proj)


def self_attention(
    attn: nn.MultiheadAttention,
    x: torch.Tensor,
    *,
    causal: bool = False,
    dropout_p: float = 0.0,
    sink: AttentionSink = None,
    residual: torch.Tensor | None = None,
) -> torch.Tensor:
    """Self-attention of ``x`` [N, L, D] (already layer-normed) -> [N, L, D], output projection included (plus
    ``residual``, if given). ``sink``: see `multi_head_attention`."""
    q, k, v = qkv_projection(attn, x).chunk(3, dim=-1)
    return multi_head_attention(attn, q, k, v, causal=causal, dropout_p=dropout_p, sink=sink, residual=residual)


def qkv_projection(attn: nn.MultiheadAttention, x: torch.Tensor) -> torch.Tensor:
    """Queries, keys and values of the tokens ``x`` [N, L, D] (layer-normed), from one GEMM: [N, L, 3 D],
    q | k | v along the last axis."""
    return F.linear(x, attn.in_proj_weight, attn.in_proj_bias)


def with_extra_key_value(attn: nn.MultiheadAttention, qkv: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
    """``qkv`` [N, L + 1, 3 D] (from `qkv_projection`) with the last row's key and value replaced by those of
    ``extra`` [N, 1, D] (layer-normed); its query is left as it is (no query of that row is ever used).

    Written into ``qkv`` in place when autograd needs neither (inference), else into a copy, since the old row
    may be saved for backward.
    """
    width = extra.shape[-1]
    kv = F.linear(extra, attn.in_proj_weight[width:], attn.in_proj_bias[width:])  # [N, 1, 2 D]
    if torch.is_grad_enabled() and (qkv.requires_grad or kv.requires_grad):
        last = torch.cat([qkv[:, -1:, :width], kv], dim=-1)
        return torch.cat([qkv[:, :-1], last], dim=1)
    qkv[:, -1:, width:] = kv
    return qkv
