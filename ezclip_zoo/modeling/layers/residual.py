"""``residual + linear(x)`` as one GEMM that accumulates into the residual.

Every residual branch of a block ends in a linear layer (attention's ``out_proj``, the adapter's ``fc2``, the MLP's
``c_proj``). Computed as written, ``residual + (x @ W^T + b)`` makes three passes over the [N, D] output: the GEMM
copies the bias into a fresh buffer, multiplies into it, then the sum is one more tensor. Here the bias is added to
the residual (one pass, which makes the output buffer) and the GEMM accumulates into that buffer in place
(``addmm_`` with beta = 1): one pass fewer, the same sum with the terms added in another order (float rounding
only). The small pieces EZ-CLIP adds are where a block spends its non-GEMM time, more so in bfloat16, whose GEMMs are
fastest; this is one of the passes that made them cost more than their arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["residual_linear"]


def residual_linear(residual: torch.Tensor, x: torch.Tensor, linear: nn.Linear, alpha: float = 1.0) -> torch.Tensor:
    """``residual + alpha * (x @ linear.weight^T) + linear.bias``.

    Args:
        residual: [..., D_out].
        x: [..., D_in], the same leading shape.
        linear: an ``nn.Linear(D_in, D_out)`` with a bias.
        alpha: scale of the product (not of the bias).

    Returns:
        A new [..., D_out] tensor (autograd-safe: the in-place accumulation is into a buffer made here).
    """
    if torch.is_autocast_enabled(x.device.type) or not (residual.dtype == x.dtype == linear.weight.dtype):
        # autocast casts out-of-place ops only (an in-place GEMM would meet mixed dtypes): the plain form
        product = torch.addmm(linear.bias, x.reshape(-1, x.shape[-1]), linear.weight.t(), alpha=alpha)
        return residual + product.view(*x.shape[:-1], product.shape[-1])
    out = (residual + linear.bias).contiguous()  # a no-op unless the sum kept a strided residual's layout
    out.view(-1, out.shape[-1]).addmm_(x.reshape(-1, x.shape[-1]), linear.weight.t(), alpha=alpha)
    return out
