"""The text tower: CLIP's causal transformer with an adapter in every block, pooled at the EOT token."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..layers import Adapter, TokenDropPath
from ._common import add_branch, drop_paths, drop_rates, layer_norm
from .attention import self_attention
from .mlp import mlp_forward

if TYPE_CHECKING:
    from open_clip import CLIP
    from open_clip.transformer import ResidualAttentionBlock

__all__ = ["TextTower"]


class TextTower(nn.Module):
    """EZ-CLIP parts of the text tower: one `Adapter` per block (after the attention residual, before the MLP).

    Args:
        width: text transformer width.
        layers: text transformer depth.
        adapter_ratio: adapter bottleneck ratio.
        drop_path: largest stochastic-depth / attention-dropout rate (train time only).
    """

    def __init__(self, width: int, layers: int, adapter_ratio: float = 0.25, drop_path: float = 0.0) -> None:
        super().__init__()
        self.adapters = nn.ModuleList(Adapter(width, adapter_ratio) for _ in range(layers))
        self.drop_paths = drop_paths(drop_path, layers)
        self.attn_dropout = drop_rates(drop_path, layers)
        self.grad_checkpointing = False  # recompute each block in backward instead of storing its activations

    def forward(self, clip: CLIP, tokens: torch.Tensor) -> torch.Tensor:
        """Encode token ids.

        Args:
            clip: the frozen open_clip ``CLIP`` (its text modules are used).
            tokens: [C, L] int64 ids with SOT first and EOT (the largest id) last; L <= context. Because the
                mask is causal, any prefix that contains every EOT gives the same result as the full context.

        Returns:
            [C, E] text embeddings at the EOT token after ``ln_final`` and the projection, not normalised.
        """
        eot = tokens.argmax(dim=-1)
        length = tokens.shape[1]
        x = clip.token_embedding(tokens) + clip.positional_embedding[:length]
        dtype = clip.positional_embedding.dtype
        x = x.to(dtype)
        for i, block in enumerate(clip.transformer.resblocks):
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(self._block, i, block, x, use_reentrant=False)
            else:
                x = self._block(i, block, x)
        pooled = clip.ln_final(x[torch.arange(x.shape[0], device=x.device), eot])
        projection = clip.text_projection
        return projection(pooled) if isinstance(projection, nn.Linear) else pooled @ projection

    def _block(self, i: int, block: ResidualAttentionBlock, x: torch.Tensor) -> torch.Tensor:
        """Text block ``i`` with its adapter: x [C, L, W] -> [C, L, W] (causal)."""
        p = self.attn_dropout[i] if self.training else 0.0
        drop_path = cast(TokenDropPath, self.drop_paths[i])  # a ModuleList's items are typed nn.Module
        x = add_branch(
            x,
            drop_path,
            lambda residual: self_attention(
                block.attn, layer_norm(block.ln_1, x), causal=True, dropout_p=p, residual=residual
            ),
        )
        x = self.adapters[i](x)
        return add_branch(x, drop_path, lambda residual: mlp_forward(block.mlp, layer_norm(block.ln_2, x), residual))
