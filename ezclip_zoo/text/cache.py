"""Text embeddings, encoded in bounded chunks and cached per (model, texts).

Encoding class texts is the expensive, repeated part of zero-shot classification (400 Kinetics classes take about
12 s with ViT-B/16 in float32 on a laptop CPU), and the texts rarely change between calls. `TextEmbeddingCache`
keeps the normalised embeddings in memory, keyed by the texts, the compute dtype and a fingerprint of the model's
text weights that changes whenever they do (in-place updates bump tensor version counters; ``.to()`` makes new
tensors), so fine-tuning or loading other weights never serves stale embeddings. Optionally it also stores them on
disk (the CLI does), keyed by a content hash of the text weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ..digest import change_token, tensor_digest
from ..paths import cache_root
from ..precision import autocast

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP
    from .labels import LabelSet

__all__ = [
    "TextEmbeddingCache",
    "encode_texts",
    "text_features",
    "default_cache",
    "default_cache_dir",
    "text_weights_fingerprint",
]

DEFAULT_CHUNK_SIZE = 256


def _text_tensors(model: EZCLIP) -> list[tuple[str, torch.Tensor]]:
    """The tensors that determine text embeddings: the CLIP text tower and the text adapters."""
    named: list[tuple[str, torch.Tensor]] = [
        (n, p)
        for n, p in model.clip.named_parameters()
        if not n.startswith("visual.") and n not in ("logit_scale", "logit_bias")
    ]
    named += [(f"text_tower.{n}", p) for n, p in model.text_tower.named_parameters()]
    return named


def tokenizer_key(model: EZCLIP) -> str:
    """What turns the model's texts into token ids: its tokenizer, the tokenizer's options and the context length
    (two models with equal text weights but different tokenizers embed the same text differently)."""
    backbone = model.config.backbone
    options = json.dumps(backbone.tokenizer_kwargs or {}, sort_keys=True)
    return f"{backbone.tokenizer or 'clip'}|{options}|{model.context_length}"


def text_weights_fingerprint(model: EZCLIP) -> tuple:
    """Cheap identity of the current text weights (changes on in-place updates and on ``.to()``)."""
    return change_token(p for _, p in _text_tensors(model))


def _content_hash(model: EZCLIP) -> str:
    """sha256 over the text weights' bytes (for the on-disk cache, which must survive restarts)."""
    return tensor_digest(_text_tensors(model))


def encode_texts(
    model: EZCLIP,
    texts: Sequence[str],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    autocast_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """L2-normalised text embeddings, encoded ``chunk_size`` texts at a time.

    Texts are sorted by token length before chunking, so each chunk runs only as far as its longest text (the
    text tower stops at the last EOT); the output is in the input order.

    Args:
        model: an `EZCLIP`.
        texts: N strings (longer than the context: truncated with a warning).
        chunk_size: texts per forward pass; bounds memory for any N.
        autocast_dtype: run under ``torch.autocast`` with this dtype (None: the model's own dtype).

    Returns:
        float32 [N, E] on the model's device.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    tokens = model.tokenize(list(texts))  # validates and warns on truncation
    lengths = tokens.argmax(dim=-1)
    order = torch.argsort(lengths, stable=True)
    out = torch.empty(len(texts), model.embed_dim, device=model.device)
    for start in range(0, len(texts), chunk_size):
        idx = order[start : start + chunk_size]
        with autocast(model.device, autocast_dtype if autocast_dtype != model.dtype else None):
            features = model.encode_text(tokens[idx])
        out[idx.to(out.device)] = F.normalize(features.float(), dim=-1)
    return out


def default_cache_dir() -> Path:
    """``text_embeddings/`` under the zoo cache root (`ezclip_zoo.paths.cache_root`)."""
    return cache_root() / "text_embeddings"


class TextEmbeddingCache:
    """Thread-safe cache of normalised text embeddings per (model, texts, dtype).

    Args:
        max_entries: text sets kept per model in memory (least recently used dropped first).
        directory: also store embeddings as safetensors files here (None: memory only).
        chunk_size: texts per forward pass when encoding.
    """

    def __init__(
        self,
        max_entries: int = 16,
        directory: str | os.PathLike | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self.max_entries = max_entries
        self.directory = Path(directory) if directory is not None else None
        self.chunk_size = chunk_size
        self._memory: weakref.WeakKeyDictionary[torch.nn.Module, OrderedDict[tuple, torch.Tensor]] = (
            weakref.WeakKeyDictionary()
        )
        self._content: weakref.WeakKeyDictionary[torch.nn.Module, tuple[tuple, str]] = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()
        self.encoded = 0  # texts encoded so far (cache misses), for tests and diagnostics

    def get(self, model: EZCLIP, texts: Sequence[str], *, autocast_dtype: torch.dtype | None = None) -> torch.Tensor:
        """Embeddings of ``texts`` (float32 [N, E], normalised), encoding only on a cache miss."""
        texts = tuple(texts)
        dtype = autocast_dtype if autocast_dtype is not None else model.dtype
        key = (texts, str(dtype), str(model.device), text_weights_fingerprint(model), tokenizer_key(model))
        with self._lock:  # one encoder at a time: concurrent misses for the same texts encode once
            entries = self._memory.setdefault(model, OrderedDict())
            hit = entries.get(key)
            if hit is not None:
                entries.move_to_end(key)
                return hit
            features = self._from_disk(model, texts, dtype, key[3])
            if features is None:
                features = encode_texts(model, texts, chunk_size=self.chunk_size, autocast_dtype=autocast_dtype)
                self.encoded += len(texts)
                self._to_disk(model, texts, dtype, key[3], features)
            entries[key] = features
            while len(entries) > self.max_entries:
                entries.popitem(last=False)
            return features

    def clear(self) -> None:
        """Forget every text embedding held in memory (the disk cache, if any, stays)."""
        with self._lock:
            self._memory = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------ disk
    def _disk_path(self, model: EZCLIP, texts: tuple[str, ...], dtype: torch.dtype, fingerprint: tuple) -> Path | None:
        if self.directory is None:
            return None
        cached = self._content.get(model)
        if cached is None or cached[0] != fingerprint:
            cached = (fingerprint, _content_hash(model))
            self._content[model] = cached
        # the key of the texts and their tokenizer, not a tensor digest
        key = f"{cached[1]}|{dtype}|{tokenizer_key(model)}|" + "".join(t + "\0" for t in texts)
        return self.directory / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.safetensors"

    def _from_disk(
        self, model: EZCLIP, texts: tuple[str, ...], dtype: torch.dtype, fingerprint: tuple
    ) -> torch.Tensor | None:
        path = self._disk_path(model, texts, dtype, fingerprint)
        if path is None or not path.is_file():
            return None
        from safetensors.torch import load_file

        try:
            features = load_file(str(path))["embeddings"]
        except Exception:  # a damaged cache file is recomputed, never trusted
            return None
        if features.shape[0] != len(texts):
            return None
        return features.to(model.device)

    def _to_disk(
        self, model: EZCLIP, texts: tuple[str, ...], dtype: torch.dtype, fingerprint: tuple, features: torch.Tensor
    ) -> None:
        path = self._disk_path(model, texts, dtype, fingerprint)
        if path is None:
            return
        from safetensors.torch import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        save_file({"embeddings": features.detach().cpu().contiguous()}, str(tmp), metadata={"count": str(len(texts))})
        os.replace(tmp, path)  # atomic: readers never see half a file


_DEFAULT: TextEmbeddingCache | None = None
_DEFAULT_LOCK = threading.Lock()


def default_cache() -> TextEmbeddingCache:
    """The process-wide in-memory cache `classify` uses by default."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = TextEmbeddingCache()
        return _DEFAULT


def text_features(
    model: EZCLIP,
    labels: LabelSet,
    *,
    cache: bool | TextEmbeddingCache | None = True,
    autocast_dtype: torch.dtype | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> torch.Tensor:
    """Normalised text embeddings of a label set: float32 [M, C, E] (cached unless ``cache`` is False).

    The one text encoder of inference, evaluation and the CLI: ``cache`` True uses the process-wide cache.
    """
    texts = labels.flat_texts()
    if cache is False or cache is None:
        flat = encode_texts(model, texts, autocast_dtype=autocast_dtype, chunk_size=chunk_size)
    else:
        store = default_cache() if cache is True else cache
        flat = store.get(model, texts, autocast_dtype=autocast_dtype)
    return flat.view(labels.num_templates, labels.num_classes, -1)
