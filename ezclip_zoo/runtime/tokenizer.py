"""CLIP's byte-level BPE tokenizer without torch: the same ids as `ezclip_zoo.tokenize` (open_clip's
``SimpleTokenizer``), as a numpy array.

A text is cleaned (ftfy's ``fix_text``, HTML entities unescaped twice, whitespace collapsed, lower case) - twice,
as `ezclip_zoo.tokenize` cleans before open_clip's ``encode`` cleans again - then split by CLIP's regular
expression (contractions, runs of letters, single digits, runs of other symbols). Each piece is written as one
printable character per UTF-8 byte, its last symbol marked ``</w>``, and adjacent symbols are merged in the order
of the merge list of the BPE file (``bpe_simple_vocab_16e6.txt.gz``, which an export folder carries). Needs the
``ftfy`` and ``regex`` packages (both pure Python, both open_clip dependencies).
"""

from __future__ import annotations

import gzip
import html
import os
import string
import warnings
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from ..errors import TextTruncatedWarning

__all__ = ["ClipTokenizer", "BPE_FILE_NAME", "byte_symbols", "clean_text", "CLEAN_KINDS"]

BPE_FILE_NAME = "bpe_simple_vocab_16e6.txt.gz"
_NUM_MERGES = 49152 - 256 - 2  # CLIP's vocabulary: 256 bytes, 256 bytes + "</w>", the merges, SOT and EOT
_SPECIALS = ("<start_of_text>", "<end_of_text>")
CLEAN_KINDS = ("canonicalize", "lower", "whitespace")  # open_clip's get_clean_fn
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def byte_symbols() -> dict[int, str]:
    """The printable stand-in of each byte value, in vocabulary order (256 entries).

    The printable Latin-1 bytes (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for themselves and come first;
    the other 68 bytes (controls, space, soft hyphen...) take the characters from U+0100 up, in byte order.
    """
    own = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in own}
    others = [b for b in range(256) if b not in table]
    table.update({b: chr(256 + i) for i, b in enumerate(others)})
    return table


def _basic(text: str) -> str:
    import ftfy

    return html.unescape(html.unescape(ftfy.fix_text(text))).strip()


def _whitespace(text: str) -> str:
    return " ".join(text.split()).strip()


def clean_text(text: str, kind: str) -> str:
    """open_clip's text cleaning ``kind`` (``open_clip.tokenizer.get_clean_fn``), without torch.

    Every kind first fixes the text with ftfy, unescapes HTML entities twice and strips it; then
    ``"whitespace"`` collapses runs of whitespace, ``"lower"`` also lower-cases, and ``"canonicalize"`` (big_vision's,
    for SigLIP) turns underscores into spaces, removes ASCII punctuation, lower-cases and collapses whitespace.
    """
    if kind not in CLEAN_KINDS:
        raise ValueError(f"clean must be one of {CLEAN_KINDS} (open_clip's), got {kind!r}")
    text = _basic(text)
    if kind == "whitespace":
        return _whitespace(text)
    if kind == "lower":
        return _whitespace(text).lower()
    text = text.replace("_", " ").translate(_PUNCTUATION).lower()
    return _whitespace(text)


class ClipTokenizer:
    """Texts -> int64 [C, context_length] ids: SOT, BPE tokens, EOT, zero padding.

    Args:
        bpe_path: CLIP's ``bpe_simple_vocab_16e6.txt.gz``.
        context_length: L (77 for CLIP).
        clean: None (``ezclip_zoo.tokenize``'s cleaning: ``"lower"``, twice), or the open_clip cleaning a backbone's
            ``tokenizer_kwargs`` names (`clean_text`; open_clip's ``SimpleTokenizer(clean=...)`` applies it once).
    """

    def __init__(self, bpe_path: str | os.PathLike, context_length: int = 77, clean: str | None = None) -> None:
        import regex

        if clean is not None and clean not in CLEAN_KINDS:
            raise ValueError(f"clean must be None or one of {CLEAN_KINDS} (open_clip's), got {clean!r}")
        self.clean = clean

        with gzip.open(bpe_path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1 : _NUM_MERGES + 1]]
        self._byte_char = byte_symbols()
        symbols = list(self._byte_char.values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + list(_SPECIALS)
        self.ids = {token: i for i, token in enumerate(vocab)}
        self._ranks = {pair: i for i, pair in enumerate(merges)}
        self.sot_id, self.eot_id = self.ids[_SPECIALS[0]], self.ids[_SPECIALS[1]]
        self.context_length = context_length
        self._pieces = regex.compile(
            "|".join(_SPECIALS) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )
        self._cache: dict[str, list[int]] = {}

    def _merge(self, piece: str) -> list[int]:
        """BPE ids of one piece (its bytes already as symbols)."""
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        word = [*piece[:-1], piece[-1] + "</w>"]
        never = len(self._ranks)
        while len(word) > 1:
            pairs = list(pairwise(word))
            best = min(pairs, key=lambda pair: self._ranks.get(pair, never))
            if best not in self._ranks:
                break
            merged, i = [], 0
            while i < len(word):  # left to right, without overlaps
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        ids = [self.ids[symbol] for symbol in word]
        self._cache[piece] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """BPE ids of one text, without SOT/EOT."""
        out: list[int] = []
        if self.clean is None:
            cleaned = clean_text(clean_text(text, "lower"), "lower")
        else:
            cleaned = clean_text(text, self.clean)
        for piece in self._pieces.findall(cleaned):
            if piece in _SPECIALS:
                out.append(self.ids[piece])
                continue
            out.extend(self._merge("".join(self._byte_char[b] for b in piece.encode("utf-8"))))
        return out

    def __call__(self, texts: Sequence[str], context_length: int | None = None) -> np.ndarray:
        """int64 [C, L] ids of C texts. A text longer than the context is truncated (its last kept token replaced
        by EOT), with one `TextTruncatedWarning` counting them, as `ezclip_zoo.tokenize` does."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a list of strings (wrap a single text in a list)")
        if len(texts) == 0:
            raise ValueError("texts is empty; pass at least one text")
        length = context_length or self.context_length
        out = np.zeros((len(texts), length), dtype=np.int64)
        lengths = []
        for i, text in enumerate(texts):
            ids = [self.sot_id, *self.encode(text), self.eot_id]
            lengths.append(len(ids))
            if len(ids) > length:
                ids = ids[: length - 1] + [self.eot_id]
            out[i, : len(ids)] = ids
        if max(lengths) > length:
            warnings.warn(TextTruncatedWarning.of(list(texts), lengths, length), stacklevel=2)
        return out
