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
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ..layers import TokenDropPath
from .video import VideoTower

if TYPE_CHECKING:
    from open_clip.timm_model import TimmModel

__all__ = ["TimmVideoTower", "BlockParts", "block_parts", "with_identity_rotation"]


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


class TimmVideoTower(VideoTower):
    """EZ-CLIP parts of a timm vision trunk: the same prompts and adapters as `VideoTower` (same names, same
    shapes), run by whole-block calls (see the module docstring). Arguments as `VideoTower`'s."""

    @contextlib.contextmanager
    def capture_attention(self, blocks: Sequence[int] | None = None) -> Iterator[dict[int, torch.Tensor]]:
        """Not available on timm trunks: their attention runs inside timm's modules, which keep no probabilities."""
        raise NotImplementedError(
            "attention capture (explain's attention maps) runs on OpenAI-layout backbones; on a timm trunk use "
            "gradient-based explanations"
        )
        yield {}  # pragma: no cover  (makes this a generator, as the context manager needs)

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
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(self._timm_block, i, block, x, rope, b, t, use_reentrant=False)
            else:
                x = self._timm_block(i, block, x, rope, b, t)
        pooled = visual.head(trunk.forward_head(trunk.norm(x)))
        return pooled.view(b, t, -1)

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
            attended = parts.attention(tokens, None if rope is None else with_identity_rotation(rope))[:, :length]
        else:
            attended = parts.attention(parts.norm1(x), rope)
        x = x + drop_path(parts.scale1(attended))
        x = self.adapters[i](x)
        return x + drop_path(parts.scale2(parts.mlp(parts.norm2(x))))
