"""Text to token ids: CLIP's BPE (open_clip's `SimpleTokenizer`, the reference's vocabulary) or a backbone's
Hugging Face tokenizer (SigLIP 2's Gemma tokenizer), each as open_clip tokenizes for that backbone."""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from open_clip.tokenizer import SimpleTokenizer

from ..errors import ExtraNotInstalledError, TextTruncatedWarning

__all__ = ["tokenize", "validate_texts", "get_tokenizer", "Tokenizer", "CLIP_TOKENIZER"]

CLIP_TOKENIZER = "clip"  # the name of CLIP's BPE in `BackboneConfig.tokenizer`
Tokenizer = Callable[[Sequence[str], int], torch.Tensor]  # (texts, context_length) -> [C, context_length] int64


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

    A text longer than the context is truncated (its last kept token replaced by EOT), with one
    `TextTruncatedWarning` per call counting such texts; the reference tokenizer raises instead, so checkpoints never
    saw truncated text.
    """
    texts = validate_texts(texts)
    bpe = _bpe()
    sot, eot = bpe.sot_token_id, bpe.eot_token_id
    out = torch.zeros(len(texts), context_length, dtype=torch.long)
    lengths = []
    for i, text in enumerate(texts):
        ids = [sot, *bpe.encode(bpe.clean_fn(text)), eot]
        lengths.append(len(ids))
        if len(ids) > context_length:
            ids = ids[: context_length - 1] + [eot]
        out[i, : len(ids)] = torch.tensor(ids)
    if max(lengths) > context_length:
        warnings.warn(TextTruncatedWarning.of(texts, lengths, context_length), stacklevel=2)
    return out


def get_tokenizer(name: str = CLIP_TOKENIZER, kwargs: Mapping[str, Any] | None = None) -> Tokenizer:
    """The tokenizer a backbone names (`BackboneConfig.tokenizer`), as a function (texts, context_length) ->
    [C, context_length] int64 ids.

    Args:
        name: ``"clip"`` (CLIP's BPE, `tokenize`), or a Hugging Face tokenizer: a local folder with
            ``tokenizer.json`` or a Hub id (read through the Hub cache; needs the ``transformers`` package).
        kwargs: open_clip tokenizer options (``clean``, ``strip_sep_token``, ...), as the model config records them.

    Raises:
        ExtraNotInstalledError: a Hugging Face tokenizer without ``transformers`` installed.
    """
    frozen = json.dumps(dict(kwargs or {}), sort_keys=True)
    return _tokenizer(os.fspath(name), frozen)


@functools.lru_cache(maxsize=8)
def _tokenizer(name: str, frozen_kwargs: str) -> Tokenizer:
    kwargs = json.loads(frozen_kwargs)
    if name == CLIP_TOKENIZER:
        if not kwargs:
            return tokenize
        return _OpenCLIPTokenizer(lambda context: SimpleTokenizer(context_length=context, **kwargs), name)
    try:
        import transformers  # noqa: F401  (open_clip's HFTokenizer imports it inside)
    except ImportError:
        raise ExtraNotInstalledError(
            f"the backbone's tokenizer {name!r} is a Hugging Face tokenizer, which needs the transformers package: "
            'pip install "ezclip-zoo[hf-tokenizers]"'
        ) from None
    from open_clip.tokenizer import HFTokenizer

    return _OpenCLIPTokenizer(lambda context: HFTokenizer(name, context_length=context, **kwargs), name)


class _OpenCLIPTokenizer:
    """An open_clip tokenizer per context length, with `tokenize`'s checks and truncation warning."""

    def __init__(self, make: Callable[[int], Any], name: str) -> None:
        self._make = functools.lru_cache(maxsize=4)(make)
        self.name = name

    def __call__(self, texts: Sequence[str], context_length: int = 77) -> torch.Tensor:
        texts = validate_texts(texts)
        tokenizer = self._make(context_length)
        ids = tokenizer(texts, context_length=context_length)
        inner = getattr(tokenizer, "tokenizer", None)  # a Hugging Face tokenizer: count the untruncated lengths
        if inner is not None:
            clean = getattr(tokenizer, "clean_fn", lambda t: t)
            lengths = [len(row) for row in inner([clean(t) for t in texts])["input_ids"]]
            if max(lengths) > context_length:
                warnings.warn(TextTruncatedWarning.of(texts, lengths, context_length, self.name), stacklevel=3)
        return ids.long()
