"""The text tower: open_clip's text transformer with an adapter in every block, pooled where the backbone pools.

One code path for every family: OpenAI-layout CLIPs (causal, pooled at the EOT token), SigLIP 2 (not causal, pooled
at the last position of the full context), PE-Core (causal, context 32), MobileCLIP2 (not causal, EOT). Layer scale,
where a block has it, scales the residual branches it scales in the backbone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..families import text_modules, text_pool_type
from ..layers import Adapter, TokenDropPath
from ._common import add_branch, drop_paths, drop_rates, layer_norm
from .attention import self_attention
from .mlp import mlp_forward

if TYPE_CHECKING:
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

    def forward(self, clip: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
        """Encode token ids.

        Args:
            clip: the frozen open_clip ``CLIP`` or ``CustomTextCLIP`` (its text modules are used).
            tokens: [C, L] int64 ids as the backbone's tokenizer gives them; L <= context. For a causal tower
                pooled at the EOT token, any prefix that contains every EOT gives the same result as the full
                context; a non-causal tower or one pooled at the last position needs the full context.

        Returns:
            [C, E] text embeddings at the pooled token after ``ln_final`` and the projection, not normalised.
        """
        text = text_modules(clip)
        causal = text.attn_mask is not None
        length = tokens.shape[1]
        x = text.token_embedding(tokens) + text.positional_embedding[:length]
        x = x.to(text.positional_embedding.dtype)
        for i, block in enumerate(text.transformer.resblocks):
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(self._block, i, block, x, causal, use_reentrant=False)
            else:
                x = self._block(i, block, x, causal)
        pooled = text.ln_final(x[torch.arange(x.shape[0], device=x.device), pool_positions(clip, tokens)])
        projection = text.text_projection
        if projection is None:
            return pooled
        return projection(pooled) if isinstance(projection, nn.Linear) else pooled @ projection

    def _block(self, i: int, block: ResidualAttentionBlock, x: torch.Tensor, causal: bool) -> torch.Tensor:
        """Text block ``i`` with its adapter: x [C, L, W] -> [C, L, W]."""
        p = self.attn_dropout[i] if self.training else 0.0
        drop_path = cast(TokenDropPath, self.drop_paths[i])  # a ModuleList's items are typed nn.Module
        if not (isinstance(block.ls_1, nn.Identity) and isinstance(block.ls_2, nn.Identity)):
            # layer scale sits between a branch and its residual, so the residual is added here, not in the GEMM
            attended = self_attention(block.attn, layer_norm(block.ln_1, x), causal=causal, dropout_p=p)
            x = x + drop_path(block.ls_1(attended))
            x = self.adapters[i](x)
            return x + drop_path(block.ls_2(mlp_forward(block.mlp, layer_norm(block.ln_2, x))))
        x = add_branch(
            x,
            drop_path,
            lambda residual: self_attention(
                block.attn, layer_norm(block.ln_1, x), causal=causal, dropout_p=p, residual=residual
            ),
        )
        x = self.adapters[i](x)
        return add_branch(x, drop_path, lambda residual: mlp_forward(block.mlp, layer_norm(block.ln_2, x), residual))


def pool_positions(clip: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """[C] the position each text is pooled at, as open_clip's ``text_global_pool`` picks it: the EOT token (the
    largest id, ``"argmax"``), the last or first position, or the first ``eos_id`` (``"eos"``)."""
    pool = text_pool_type(clip)
    if pool == "argmax":
        return tokens.argmax(dim=-1)
    if pool == "eos":
        eos_id = getattr(text_modules(clip), "text_eos_id" if text_modules(clip) is clip else "eos_id")
        return (tokens == eos_id).int().argmax(dim=-1)
    last = tokens.shape[1] - 1 if pool == "last" else 0
    return torch.full((tokens.shape[0],), last, dtype=torch.long, device=tokens.device)
