"""Text to token ids with CLIP's BPE (open_clip's `SimpleTokenizer`, the same vocabulary as the reference)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import torch
from open_clip.tokenizer import SimpleTokenizer

__all__ = ["tokenize", "validate_texts"]


@functools.lru_cache(maxsize=1)
def _bpe() -> SimpleTokenizer:
    return SimpleTokenizer()


def validate_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    """Check that ``texts`` is a non-empty sequence of strings; returns it as a list."""
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of strings, got a single string {texts!r}; wrap it in a list")
    texts = list(texts)
    if not texts:
        raise ValueError(f"{what} is empty; pass at least one text")
    bad = [(i, type(t).__name__) for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{what} must all be strings; entries (index, type) {bad[:5]} are not")
    return texts


def tokenize(texts: Sequence[str], context_length: int = 77) -> torch.Tensor:
    """Tokenize texts to [C, context_length] int64 ids: SOT, BPE tokens, EOT, zero padding.

    A text longer than the context is truncated (its last kept token replaced by EOT) with a warning naming it;
    the reference tokenizer raises instead, so checkpoints never saw truncated text.
    """
    texts = validate_texts(texts)
    bpe = _bpe()
    sot, eot = bpe.sot_token_id, bpe.eot_token_id
    out = torch.zeros(len(texts), context_length, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = [sot, *bpe.encode(bpe.clean_fn(text)), eot]
        if len(ids) > context_length:
            warnings.warn(
                f"text {i} ({text[:40]!r}...) has {len(ids)} tokens, more than the context of {context_length}; "
                "it was truncated. Shorten it to keep its end.",
                stacklevel=2,
            )
            ids = ids[: context_length - 1] + [eot]
        out[i, : len(ids)] = torch.tensor(ids)
    return out
