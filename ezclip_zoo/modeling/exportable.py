"""The two encoders of an `EZCLIP` as modules of tensors only, for ``torch.export`` and ONNX.

* `VideoEncoder`: frames float32 [B, T, 3, H, W] (CLIP-normalised, T = the model's ``num_frames``) -> the
  L2-normalised clip embedding float32 [B, E] (the mean of the per-frame embeddings, as `EZCLIP.encode_video`).
* `TextEncoder`: token ids int64 [C, context_length] -> the L2-normalised text embedding float32 [C, E], on the
  export-friendly path of `EZCLIP.encode_text` (every position encoded, each text gathered at its EOT: no shape
  depends on the token values, so the class dimension stays dynamic).

Both compute in the model's dtype and return float32, so an exported half-precision model takes and gives the
same tensors as a float32 one. Zero-shot logits are ``logit_scale * video @ text.T``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from .model import EZCLIP

__all__ = ["VideoEncoder", "TextEncoder"]


class VideoEncoder(nn.Module):
    """frames [B, T, 3, H, W] -> L2-normalised video embeddings [B, E] float32 (see the module docstring)."""

    def __init__(self, model: EZCLIP) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_video(frames).float(), dim=-1)


class TextEncoder(nn.Module):
    """tokens [C, context_length] int64 -> L2-normalised text embeddings [C, E] float32 (see the module docstring)."""

    def __init__(self, model: EZCLIP) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_text(tokens, trim_to_longest=False).float(), dim=-1)
