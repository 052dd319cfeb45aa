"""Class scores of clips: text embeddings of every class text, and the softmax averaged over templates/views."""

from __future__ import annotations

import contextlib
from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["encode_class_texts", "class_probabilities", "autocast_context"]


def autocast_context(device: torch.device, precision: str):
    """``torch.autocast`` for ``precision`` ``"bf16"``, a no-op for ``"fp32"``."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision != "fp32":
        raise ValueError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    return contextlib.nullcontext()


@torch.no_grad()
def encode_class_texts(
    model, texts: Sequence[Sequence[str]], *, batch_size: int = 256, precision: str = "fp32"
) -> torch.Tensor:
    """L2-normalised text embeddings of every class text.

    Args:
        model: an `EZCLIP`.
        texts: ``texts[c]`` = the M texts of class c (M equal for every class: templates, or 1 description).
        batch_size: texts encoded per forward pass (bounds memory for thousands of classes).

    Returns:
        [M, C, E] float32.
    """
    counts = {len(t) for t in texts}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every class needs the same non-zero number of texts, got counts {sorted(counts)}")
    m = counts.pop()
    flat = [texts[c][j] for j in range(m) for c in range(len(texts))]  # template-major
    chunks = []
    with autocast_context(model.device, precision):
        for start in range(0, len(flat), batch_size):
            chunks.append(model.encode_text(flat[start : start + batch_size]).float())
    return F.normalize(torch.cat(chunks), dim=-1).view(m, len(texts), -1)


def class_probabilities(video_features: torch.Tensor, text_features: torch.Tensor, logit_scale: float) -> torch.Tensor:
    """The reference's test-time scores: per template, ``softmax(logit_scale * cos)`` over classes, averaged.

    Args:
        video_features: [B, E] (normalised here).
        text_features: [M, C, E] from `encode_class_texts`.
        logit_scale: 100 for EZ-CLIP.

    Returns:
        [B, C] probabilities.
    """
    video = F.normalize(video_features.float(), dim=-1)
    logits = logit_scale * torch.einsum("be,mce->mbc", video, text_features.to(video.device))
    return logits.softmax(dim=-1).mean(dim=0)
