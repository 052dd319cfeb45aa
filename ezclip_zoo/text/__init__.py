"""The one source of class text: tokenizer, prompt templates, label sets, label files and the text-embedding cache,
shared by inference, evaluation and training."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .cache import TextEmbeddingCache, default_cache, default_cache_dir, encode_texts
    from .files import read_labels_file
    from .labels import LabelSet, build_label_set, class_texts
    from .templates import ACTIONCLIP_TEMPLATES, TEMPLATE_SETS
    from .tokenizer import tokenize

__all__ = [
    "ACTIONCLIP_TEMPLATES",
    "LabelSet",
    "TEMPLATE_SETS",
    "TextEmbeddingCache",
    "build_label_set",
    "class_texts",
    "default_cache",
    "default_cache_dir",
    "encode_texts",
    "read_labels_file",
    "tokenize",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".cache": ("TextEmbeddingCache", "default_cache", "default_cache_dir", "encode_texts"),
        ".files": ("read_labels_file",),
        ".labels": ("LabelSet", "build_label_set", "class_texts"),
        ".templates": ("ACTIONCLIP_TEMPLATES", "TEMPLATE_SETS"),
        ".tokenizer": ("tokenize",),
    },
)
