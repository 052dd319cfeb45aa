"""The video tower over a timm ViT or Eva trunk (SigLIP 2, PE-Core, EVA02, MobileCLIP2-L), by whole-block calls.

The reference defines EZ-CLIP on OpenAI's CLIP (`VideoTower`); here the same steps run through the frozen timm
modules themselves, so whatever a trunk's attention does (q/k norms, gates, separate q/k/v, SwiGLU MLPs, RoPE)
happens as timm computes it. In block l, for each clip of T frames with tokens x (prefix tokens, if any, first):

  1. ``p[t] = prompts[l, t] + mean over all tokens of frame t`` (class and register tokens included);
  2. ``p = attn(norm1(p))`` across the T frames with the block's own attention, no residual, no RoPE;
  3. each frame attends over its tokens plus its ``p[t]``: ``attn(norm1([x, p[t]]))`` keeps the first L rows
     (the appended row's own output is not used), then ``x = x + ls1(...)``;
  4. ``x = adapter(x)``; ``x = x + ls2(mlp(norm2(x)))``.

Where the reference says nothing, the mapping is: layer scale (timm's ``ls1``/``ls2``, Eva's ``gamma_1``/``gamma_2``)
scales the residual branches it scales in the backbone, not the temporal step (which is no residual branch); with
RoPE, the prompt is an unrotated token (its rotary row is the identity) and every patch keeps its own rotation; the
clip embedding is the mean over frames of the backbone's own pooled, projected frame embedding (``forward_head`` and
open_clip's head: an attention pool, a class token or a mean, as the backbone pools). Attention-probability dropout,
which the reference applies at train time, is not applied on this path: the frozen timm attention runs in eval mode.

`capture_attention` (attention maps, `ezclip_zoo.explain`) records the chosen blocks' probabilities through timm's
own unfused attention path, and how the head reads the final tokens (`readout_weights`: the attention-pool head's
latent queries where there is no class token to read).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..layers import TokenDropPath
from .video import VideoTower

if TYPE_CHECKING:
    from open_clip.timm_model import TimmModel

__all__ = [
    "TimmVideoTower",
    "BlockParts",
    "attention_pool",
    "block_parts",
    "readout_weights",
    "with_identity_rotation",
]


@dataclass(frozen=True)
class BlockParts:
    """The frozen pieces of one timm block, as the tower calls them.

    Attributes:
        norm1, norm2: the pre-attention and pre-MLP norms.
        attention: ``attention(x, rope)`` -> the attention branch [N, L, W] (output projection included).
        scale1, scale2: the layer scales of the attention and MLP branches (identity where the block has none).
        mlp: the MLP.
    """

    norm1: nn.Module
    attention: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
    scale1: Callable[[torch.Tensor], torch.Tensor]
    norm2: nn.Module
    mlp: nn.Module
    scale2: Callable[[torch.Tensor], torch.Tensor]


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _gamma(gamma: torch.Tensor | None) -> Callable[[torch.Tensor], torch.Tensor]:
    return _identity if gamma is None else (lambda x: gamma * x)


def block_parts(block: Any) -> BlockParts:
    """The `BlockParts` of a timm ``Block`` (VisionTransformer) or ``EvaBlock`` (Eva)."""
    from timm.models.eva import EvaBlock

    if isinstance(block, EvaBlock):
        attn = block.attn
        return BlockParts(
            block.norm1,
            lambda x, rope: attn(x, rope=rope),
            _gamma(block.gamma_1),
            block.norm2,
            block.mlp,
            _gamma(block.gamma_2),
        )
    vit_attn = block.attn
    return BlockParts(block.norm1, lambda x, rope: vit_attn(x), block.ls1, block.norm2, block.mlp, block.ls2)


def with_identity_rotation(rope: torch.Tensor) -> torch.Tensor:
    """A RoPE table [..., P, 2D] (sines then cosines, timm's ``apply_rot_embed_cat`` layout) with one more row
    that rotates nothing (sine 0, cosine 1): the row of the appended prompt token. The P patch rows are unchanged."""
    half = rope.shape[-1] // 2
    row = torch.cat([rope.new_zeros(*rope.shape[:-2], 1, half), rope.new_ones(*rope.shape[:-2], 1, half)], dim=-1)
    return torch.cat([rope, row], dim=-2)


def _pool_start(trunk: Any) -> int:
    """The first token an attention-pool head reads: a ViT's reads the patches only (unless told otherwise), an
    Eva's every token."""
    return 0 if getattr(trunk, "pool_include_prefix", True) else int(trunk.num_prefix_tokens)


def readout_weights(trunk: Any, x: torch.Tensor) -> torch.Tensor | None:
    """How the trunk's head reads the final tokens ``x`` [N, L, W] (after its norm): [N, H, Q, L] attention of an
    attention-pool head's Q latent queries, computed from the head's own q, kv and norms as its forward computes them;
    a uniform [N, 1, 1, L] mean over the patches for average pooling; None when it reads the class token."""
    pool = getattr(trunk, "attn_pool", None)
    n, length, _ = x.shape
    prefix = int(trunk.num_prefix_tokens)
    if pool is None:
        if getattr(trunk, "global_pool", "token") != "avg":
            return None
        weights = x.new_zeros(n, 1, 1, length)
        weights[..., prefix:] = 1.0 / (length - prefix)
        return weights
    start = _pool_start(trunk)
    tokens = x[:, start:]
    if pool.pos_embed is not None:
        tokens = tokens + pool.pos_embed.unsqueeze(0).to(tokens.dtype)
    heads, dim = pool.num_heads, pool.head_dim
    q = pool.q(pool.latent.expand(n, -1, -1)).reshape(n, pool.latent_len, heads, dim).transpose(1, 2)
    k = pool.kv(tokens).reshape(n, tokens.shape[1], 2, heads, dim).permute(2, 0, 3, 1, 4)[0]
    q, k = pool.q_norm(q), pool.k_norm(k)
    probs = ((q * pool.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
    return torch.nn.functional.pad(probs, (start, 0))


def attention_pool(trunk: Any, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The trunk's attention-pool head on the final tokens ``x`` [N, L, W] with its attention ``weights``
    [N, H, Q, L] (`readout_weights`): the head's own value projection, output projection, MLP and latent pooling,
    as its forward computes them: [N, W]."""
    pool = trunk.attn_pool
    n = x.shape[0]
    start = _pool_start(trunk)
    tokens = x[:, start:]
    if pool.pos_embed is not None:
        tokens = tokens + pool.pos_embed.unsqueeze(0).to(tokens.dtype)
    v = pool.kv(tokens).reshape(n, tokens.shape[1], 2, pool.num_heads, pool.head_dim).permute(2, 0, 3, 1, 4)[1]
    out = pool.proj((weights[..., start:] @ v).transpose(1, 2).reshape(n, pool.latent_len, -1))
    if pool.mlp is not None:
        out = out + pool.mlp(pool.norm(out))
    return out[:, 0] if pool.pool == "token" else out.mean(1) if pool.pool == "avg" else out


class TimmVideoTower(VideoTower):
    """EZ-CLIP parts of a timm vision trunk: the same prompts and adapters as `VideoTower` (same names, same
    shapes), run by whole-block calls (see the module docstring). Arguments as `VideoTower`'s."""

    def forward(self, visual: TimmModel, frames: torch.Tensor) -> torch.Tensor:
        """Encode clips frame by frame.

        Args:
            visual: the frozen open_clip ``TimmModel`` (``trunk`` a timm ``VisionTransformer`` or ``Eva``).
            frames: [B, T, 3, H, W] normalised pixels, T == ``num_frames``.

        Returns:
            [B, T, E] per-frame embeddings (the backbone's pooled, projected embedding), not normalised.
        """
        b, t = frames.shape[:2]
        trunk = visual.trunk
        x, rope = self._embed(trunk, frames.flatten(0, 1))
        for i, block in enumerate(trunk.blocks):
            if self.grad_checkpointing and torch.is_grad_enabled() and self._captured is None:
                x = checkpoint(self._timm_block, i, block, x, rope, b, t, use_reentrant=False)
            else:
                x = self._timm_block(i, block, x, rope, b, t)
        x = trunk.norm(x)
        readout = None
        if self._captured is not None:
            readout = self._captured.readout = readout_weights(trunk, x)
            self._captured.prefix = int(trunk.num_prefix_tokens)
        if readout is not None and trunk.attn_pool is not None:
            # the head run from the recorded weights, so that gradients with respect to them exist (same values)
            features = trunk.head(trunk.head_drop(trunk.fc_norm(attention_pool(trunk, x, readout))))
        else:
            features = trunk.forward_head(x)
        return visual.head(features).view(b, t, -1)

    @contextlib.contextmanager
    def _recording(self, i: int, attn: Any, length: int) -> Iterator[None]:
        """Around block ``i``'s spatial attention call: while `capture_attention` records that block, the call takes
        timm's own unfused path (``fused_attn`` off, restored after), whose dropout module sees the probabilities,
        and a forward hook keeps the frame tokens' rows, [N, H, L, K]. Otherwise nothing changes."""
        captured = self._captured
        if captured is None or i not in self._capture_blocks:
            yield
            return
        kept: list[torch.Tensor] = []

        def keep(module: nn.Module, args: Any, out: torch.Tensor) -> torch.Tensor:
            # the frame tokens' rows, put back into the output, so that gradients with respect to them exist
            rows = out[:, :, :length]
            kept.append(rows)
            return torch.cat([rows, out[:, :, length:]], dim=2)

        hook = attn.attn_drop.register_forward_hook(keep)
        fused, attn.fused_attn = attn.fused_attn, False
        try:
            yield
        finally:
            attn.fused_attn = fused
            hook.remove()
        if kept:
            captured[i] = kept[-1]

    @staticmethod
    def _embed(trunk: Any, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Tokens [N, L, W] after the patch and position embeddings and the pre-norm, as the trunk's own
        ``forward_features`` computes them, and its RoPE table (None without RoPE)."""
        x = trunk.patch_embed(pixels)
        embedded = trunk._pos_embed(x)  # timm's own step (Eva's also returns its RoPE table)
        if isinstance(embedded, tuple):
            x, rope = embedded
        else:
            x, rope = trunk.patch_drop(embedded), None
        return trunk.norm_pre(x), rope

    def _timm_block(
        self, i: int, block: Any, x: torch.Tensor, rope: torch.Tensor | None, b: int, t: int
    ) -> torch.Tensor:
        """Block ``i`` with its prompt and adapter: x [B*T, L, W] -> [B*T, L, W]."""
        parts = block_parts(block)
        drop_path = cast(TokenDropPath, self.drop_paths[i])  # a ModuleList's items are typed nn.Module
        n, length, width = x.shape
        if self.prompts is not None:
            prompt = self.prompts(i).to(x.dtype) + x.mean(dim=1).view(b, t, width)  # [B, T, W]
            prompt = parts.attention(parts.norm1(prompt), None)  # across the T frames, unrotated
            if drop_path.active:
                prompt = drop_path(prompt)
            tokens = parts.norm1(torch.cat([x, prompt.reshape(n, 1, width)], dim=1))
            with self._recording(i, block.attn, length):
                attended = parts.attention(tokens, None if rope is None else with_identity_rotation(rope))
            attended = attended[:, :length]
        else:
            with self._recording(i, block.attn, length):
                attended = parts.attention(parts.norm1(x), rope)
        x = x + drop_path(parts.scale1(attended))
        x = self.adapters[i](x)
        return x + drop_path(parts.scale2(parts.mlp(parts.norm2(x))))
