"""The one zero-shot scoring of inference and evaluation: per class text (template), the softmax over classes of
``logit_scale * cos(video, text)``, averaged over the texts of a class and over the views of a video."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ..precision import autocast_dtype
from ..text.cache import TextEmbeddingCache, text_features
from ..text.labels import LabelSet

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["score_views", "presence_views", "class_probabilities", "encode_class_texts"]


def score_views(
    video_features: torch.Tensor, text_feats: torch.Tensor, logit_scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities and logits of videos from their views.

    Args:
        video_features: normalised [V, E] (one video) or [B, V, E] (B videos), one row per view (clip x crop).
        text_feats: normalised [M, C, E], templates x classes.
        logit_scale: multiplier of the cosine similarities (100 for EZ-CLIP).

    Returns:
        (probabilities [C] or [B, C]: softmax over classes averaged over views and templates, as the reference
        averages templates and multi-view testing averages views; logits [C] or [B, C], averaged likewise), on
        the CPU.
    """
    single = video_features.ndim == 2
    video = video_features[None] if single else video_features
    logits = logit_scale * torch.einsum("bve,mce->bvmc", video, text_feats.to(video.device))
    probs, mean_logits = logits.softmax(dim=-1).mean(dim=(1, 2)).cpu(), logits.mean(dim=(1, 2)).cpu()
    return (probs[0], mean_logits[0]) if single else (probs, mean_logits)


def presence_views(
    video_features: torch.Tensor, text_feats: torch.Tensor, scale_bias: tuple[float, float]
) -> torch.Tensor:
    """Per-class presence probabilities of videos from their views: ``sigmoid(scale * cos + bias)`` with a
    SigLIP-family backbone's own scale and bias, averaged over views and templates. Each class on its own: the
    probability that this action is present at all, not a share among the given classes.

    Args:
        video_features: normalised [V, E] (one video) or [B, V, E], one row per view.
        text_feats: normalised [M, C, E], templates x classes.
        scale_bias: the backbone's (``exp(logit_scale)``, ``logit_bias``), `EZCLIP.presence_scale_bias`.

    Returns:
        [C] or [B, C] float32 probabilities in (0, 1), on the CPU.
    """
    scale, bias = scale_bias
    single = video_features.ndim == 2
    video = video_features[None] if single else video_features
    logits = scale * torch.einsum("bve,mce->bvmc", video.float(), text_feats.float().to(video.device)) + bias
    presence = logits.sigmoid().mean(dim=(1, 2)).cpu()
    return presence[0] if single else presence


def class_probabilities(video_features: torch.Tensor, text_features: torch.Tensor, logit_scale: float) -> torch.Tensor:
    """`score_views` of one view per video: [B, E] (normalised here) -> [B, C] probabilities."""
    video = F.normalize(video_features.float(), dim=-1)
    return score_views(video[:, None], text_features, logit_scale)[0]


def encode_class_texts(
    model: EZCLIP,
    texts: Sequence[Sequence[str]],
    *,
    batch_size: int = 256,
    precision: str = "fp32",
    cache: bool | TextEmbeddingCache = True,
) -> torch.Tensor:
    """Normalised text embeddings of every class text, [M, C, E] float32 (through the text-embedding cache).

    Args:
        model: an `EZCLIP`.
        texts: ``texts[c]`` = the M texts of class c (M equal for every class: templates, or 1 description).
        batch_size: texts per forward pass of an uncached encoding (bounds memory for thousands of classes).
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"``.
        cache: True (the process-wide cache), False, or a `TextEmbeddingCache`.
    """
    counts = {len(t) for t in texts}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"every class needs the same non-zero number of texts, got counts {sorted(counts)}")
    labels = LabelSet(names=tuple(str(c) for c in range(len(texts))), texts=tuple(zip(*texts, strict=True)))
    dtype = autocast_dtype(precision, device=model.device)
    return text_features(model, labels, cache=cache, autocast_dtype=dtype, chunk_size=batch_size)
