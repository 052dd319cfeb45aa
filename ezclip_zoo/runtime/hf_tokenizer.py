"""A backbone's Hugging Face tokenizer without torch or transformers: the ids open_clip's ``HFTokenizer`` gives
(SigLIP 2's Gemma tokenizer), from the ``tokenizer.json`` an export folder carries, through the ``tokenizers``
package (Rust, no torch).

open_clip's ``HFTokenizer`` cleans each text (``clean``: ``"whitespace"`` by default, ``"canonicalize"`` for
SigLIP), then calls the transformers tokenizer with ``padding="max_length", truncation=True,
max_length=context_length``, which the fast tokenizer runs as its Rust tokenizer with truncation to the context
(room kept for the special tokens its post-processor adds, so an end token survives truncation) and padding with
the pad token to the context, on the tokenizer's padding and truncation sides; ``strip_sep_token`` then makes the
separator id 0. `HuggingFaceTokenizer` does the same, with the cleaning functions below (open_clip's, reimplemented
exactly: `ezclip_zoo.runtime.tokenizer.clean_text`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TextTruncatedWarning
from .tokenizer import CLEAN_KINDS, clean_text

__all__ = ["HuggingFaceTokenizer", "HF_TOKENIZER_FILE"]

HF_TOKENIZER_FILE = "tokenizer.json"


class HuggingFaceTokenizer:
    """Texts -> int64 [C, context_length] ids, as open_clip's ``HFTokenizer`` gives them (module docstring).

    Args:
        path: the tokenizer's ``tokenizer.json`` (an export folder's).
        context_length: L, the text tower's context.
        pad_id, pad_token: the padding token (transformers' ``pad_token_id`` and ``pad_token``).
        padding_side, truncation_side: ``"right"`` or ``"left"``, as the transformers tokenizer has them.
        clean: open_clip's cleaning (`clean_text`): ``"whitespace"`` (its default), ``"lower"``, ``"canonicalize"``.
        strip_sep_id: None, or the separator id that ``strip_sep_token`` replaces by 0.
        name: the tokenizer's name, for the truncation warning.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        context_length: int,
        *,
        pad_id: int,
        pad_token: str,
        padding_side: str = "right",
        truncation_side: str = "right",
        clean: str = "whitespace",
        strip_sep_id: int | None = None,
        name: str = "Hugging Face tokenizer",
    ) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ImportError(
                "this export's text tower uses a Hugging Face tokenizer, which the runtime runs with the tokenizers "
                "package: pip install 'ezclip-zoo[export]' (or tokenizers)"
            ) from exc
        if clean not in CLEAN_KINDS:
            raise ValueError(f"clean must be one of {CLEAN_KINDS} (open_clip's), got {clean!r}")
        self.context_length = int(context_length)
        self.clean, self.strip_sep_id, self.name = clean, strip_sep_id, name
        self._full = Tokenizer.from_file(str(path))  # every token, for the lengths the truncation warning counts
        self._full.no_padding()
        self._full.no_truncation()
        self._fitted = Tokenizer.from_file(str(path))  # truncated and padded to the context, as transformers does
        self._fitted.enable_truncation(
            self.context_length, stride=0, strategy="longest_first", direction=truncation_side
        )
        self._fitted.enable_padding(
            direction=padding_side, pad_id=int(pad_id), pad_type_id=0, pad_token=pad_token, length=self.context_length
        )

    @classmethod
    def from_manifest(cls, folder: str | os.PathLike, entry: Mapping[str, Any]) -> HuggingFaceTokenizer:
        """The tokenizer an export manifest's ``tokenizer`` entry (``kind`` ``"hugging-face"``) describes."""
        return cls(
            Path(folder) / entry["file"],
            int(entry["context_length"]),
            pad_id=int(entry["pad_id"]),
            pad_token=str(entry["pad_token"]),
            padding_side=str(entry.get("padding_side", "right")),
            truncation_side=str(entry.get("truncation_side", "right")),
            clean=str(entry.get("clean", "whitespace")),
            strip_sep_id=entry.get("strip_sep_id"),
            name=str(entry.get("name", "Hugging Face tokenizer")),
        )

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """int64 [C, L] ids of C texts. A text longer than the context is truncated as transformers truncates it
        (the special tokens kept), with one `TextTruncatedWarning` counting them, as the eager tokenizer warns."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a list of strings (wrap a single text in a list)")
        if len(texts) == 0:
            raise ValueError("texts is empty; pass at least one text")
        cleaned = [clean_text(t, self.clean) for t in texts]
        ids = np.array([e.ids for e in self._fitted.encode_batch(cleaned)], dtype=np.int64)
        if self.strip_sep_id is not None:
            ids[ids == self.strip_sep_id] = 0
        lengths = [len(e.ids) for e in self._full.encode_batch(cleaned)]
        if max(lengths) > self.context_length:
            warnings.warn(TextTruncatedWarning.of(list(texts), lengths, self.context_length, self.name), stacklevel=2)
        return ids
