"""The video tower: CLIP's ViT run on every frame, with temporal prompts and adapters in every block."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, cast

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..layers import Adapter, TemporalPrompts, TokenDropPath
from ._common import add_branch, drop_paths, drop_rates, layer_norm
from .attention import multi_head_attention, qkv_projection, self_attention, with_extra_key_value
from .mlp import mlp_forward
from .patch_embed import patch_tokens

if TYPE_CHECKING:
    from open_clip.transformer import ResidualAttentionBlock, VisionTransformer

__all__ = ["VideoTower", "AttentionCapture"]


class AttentionCapture(dict[int, torch.Tensor]):
    """What `VideoTower.capture_attention` records: block index -> [B*T, H, L, K] attention probabilities of the L
    tokens of every frame (over those L and, with temporal prompts, the frame's prompt token last: K = L + 1), and
    where the frame embedding reads the tokens.

    Attributes:
        prefix: tokens before the patch grid (1: a class token; 0: none, as in SigLIP 2 and PE-Core bigG).
        readout: None when the embedding is read at the first token (a class token); else [B*T, H, Q, L] weights
            with which the pooling head reads the L tokens: an attention-pool head's latent queries (SigLIP 2,
            PE-Core), or a uniform mean over the patches; zero where a token is not read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.prefix = 1
        self.readout: torch.Tensor | None = None


class VideoTower(nn.Module):
    """EZ-CLIP parts of the vision tower.

    In block l, for each clip of T frames with tokens x (CLS first):
      1. ``p[t] = prompts[l, t] + mean over all tokens of frame t`` (CLS included);
      2. ``p = attn(ln_1(p))`` across the T frames of the clip with the block's own frozen ``ln_1`` and attention,
         no mask and no residual;
      3. each frame attends over its tokens plus its ``p[t]``: ``x = x + attn(ln_1([x, p[t]]))[:L]``;
      4. ``x = adapter(x)``; ``x = x + mlp(ln_2(x))``.
    With ``temporal_prompts=False`` step 1-2 are skipped and step 3 is plain self-attention (the "base model").

    Args:
        width, layers: ViT width and depth.
        num_frames: T, frames per clip.
        adapter_ratio: adapter bottleneck ratio.
        prompt_dropout: dropout on the prompt vectors (train time).
        drop_path: largest stochastic-depth / attention-dropout rate (train time).
        temporal_prompts: build the prompts (True) or the base model (False).
    """

    def __init__(
        self,
        width: int,
        layers: int,
        num_frames: int,
        adapter_ratio: float = 0.25,
        prompt_dropout: float = 0.0,
        drop_path: float = 0.0,
        temporal_prompts: bool = True,
    ) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.prompts: TemporalPrompts | None = (
            TemporalPrompts(layers, num_frames, width, prompt_dropout) if temporal_prompts else None
        )
        self.adapters = nn.ModuleList(Adapter(width, adapter_ratio) for _ in range(layers))
        self.drop_paths = drop_paths(drop_path, layers)
        self.attn_dropout = drop_rates(drop_path, layers)
        self.grad_checkpointing = False  # recompute each block in backward instead of storing its activations
        self._captured: AttentionCapture | None = None  # block -> probabilities, in `capture_attention`
        self._capture_blocks: frozenset[int] = frozenset()

    @contextlib.contextmanager
    def capture_attention(self, blocks: Sequence[int] | None = None) -> Iterator[AttentionCapture]:
        """Record the frame tokens' attention probabilities of chosen blocks during the forward passes inside.

        Opt-in and off the normal path: the captured blocks compute ``softmax(q k^T / sqrt(d)) @ v`` in its math
        form (equal to the fused kernel up to float rounding) and keep the probabilities in the autograd graph, so
        gradients with respect to them can be taken; gradient checkpointing is bypassed while capturing. The
        capture belongs to the tower, so forward passes of the same model from other threads meanwhile record too.

        Args:
            blocks: block indices (negative counts from the end); None for every block.

        Yields:
            An `AttentionCapture` filled by each forward pass: block index (non-negative) -> [B*T, H, L, K]
            probabilities of the L = 1 + g*g tokens of every frame (CLS first, patches row-major) over K keys: the
            same L tokens, plus the frame's temporal prompt token last (K = L + 1) when the model has temporal
            prompts.
        """
        depth = len(self.adapters)
        chosen = range(depth) if blocks is None else blocks
        wanted = set()
        for b in chosen:
            if not isinstance(b, int) or isinstance(b, bool) or not -depth <= b < depth:
                raise ValueError(f"blocks must be ints in [-{depth}, {depth}) for this {depth}-block tower, got {b!r}")
            wanted.add(b % depth)
        if self._captured is not None:
            raise RuntimeError("capture_attention is already active on this tower (captures do not nest)")
        self._captured, self._capture_blocks = AttentionCapture(), frozenset(wanted)
        try:
            yield self._captured
        finally:
            self._captured, self._capture_blocks = None, frozenset()

    def forward(self, visual: VisionTransformer, frames: torch.Tensor) -> torch.Tensor:
        """Encode clips frame by frame.

        Args:
            visual: the frozen open_clip ``VisionTransformer``.
            frames: [B, T, 3, H, W] normalised pixels, T == ``num_frames``.

        Returns:
            [B, T, E] per-frame embeddings (``ln_post(CLS) @ proj``), not normalised.
        """
        b, t = frames.shape[:2]
        x = patch_tokens(visual.conv1, frames.flatten(0, 1))  # [BT, g*g, W]
        cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype)
        x = visual.ln_pre(x)
        for i, block in enumerate(visual.transformer.resblocks):
            if self.grad_checkpointing and torch.is_grad_enabled() and self._captured is None:
                x = checkpoint(self._block, i, block, x, b, t, use_reentrant=False)
            else:
                x = self._block(i, block, x, b, t)
        pooled = visual.ln_post(x[:, 0])
        return (pooled @ visual.proj).view(b, t, -1)

    def _block(self, i: int, block: ResidualAttentionBlock, x: torch.Tensor, b: int, t: int) -> torch.Tensor:
        """Vision block ``i`` with its prompt and adapter: x [B*T, L, W] -> [B*T, L, W]."""
        p_attn = self.attn_dropout[i] if self.training else 0.0
        drop_path = cast(TokenDropPath, self.drop_paths[i])  # a ModuleList's items are typed nn.Module
        sink: list[torch.Tensor] | None = [] if self._captured is not None and i in self._capture_blocks else None
        if self.prompts is not None:
            x = add_branch(
                x,
                drop_path,
                lambda residual: self._prompted_attention(
                    i, block, x, b, t, dropout_p=p_attn, sink=sink, residual=residual
                ),
            )
        else:
            x = add_branch(
                x,
                drop_path,
                lambda residual: self_attention(
                    block.attn, layer_norm(block.ln_1, x), dropout_p=p_attn, sink=sink, residual=residual
                ),
            )
        if sink and self._captured is not None:
            self._captured[i] = sink[0]
        x = self.adapters[i](x)
        return add_branch(x, drop_path, lambda residual: mlp_forward(block.mlp, layer_norm(block.ln_2, x), residual))

    def _prompted_attention(
        self,
        i: int,
        block: ResidualAttentionBlock,
        x: torch.Tensor,
        b: int,
        t: int,
        *,
        dropout_p: float,
        sink: list[torch.Tensor] | None,
        residual: torch.Tensor | None,
    ) -> torch.Tensor:
        """Steps 1-3 of the class docstring for block ``i``: x [B*T, L, W] -> attention output [B*T, L, W].

        One layer norm and one GEMM take the frame tokens and, as one more row per frame, the prompt inputs (the
        same ``ln_1`` and QKV weights serve both; the norm is per row). The temporal attention reads the prompt
        rows' q, k, v; the key and value of its output (the extra token) then replace that row's, and the frame
        tokens attend over their L keys plus it. Projecting the prompt in its own T-row GEMM would read the whole
        QKV weight again for T rows.
        """
        assert self.prompts is not None  # called only by a tower with temporal prompts
        n, length, width = x.shape
        # prompts + the mean of each frame's tokens, as one add of the token sum scaled by 1 / L
        prompt = torch.add(self.prompts(i).to(x.dtype), x.sum(dim=1).view(b, t, width), alpha=1.0 / length)  # [B, T, W]
        tokens = layer_norm(block.ln_1, torch.cat([x, prompt.view(n, 1, width)], dim=1))
        qkv = qkv_projection(block.attn, tokens)  # [B*T, L + 1, 3W]
        pq, pk, pv = qkv[:, length].view(b, t, 3 * width).chunk(3, dim=-1)
        prompt = multi_head_attention(block.attn, pq, pk, pv, dropout_p=dropout_p)
        if self.drop_paths[i].active:
            prompt = self.drop_paths[i](prompt)
        qkv = with_extra_key_value(block.attn, qkv, layer_norm(block.ln_1, prompt.reshape(n, 1, width)))
        q, k, v = qkv[:, :length, :width], qkv[..., width : 2 * width], qkv[..., 2 * width :]
        return multi_head_attention(block.attn, q, k, v, dropout_p=dropout_p, sink=sink, residual=residual)
