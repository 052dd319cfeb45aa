"""The one source of class text: tokenizer, prompt templates, label sets, label files and the text-embedding cache,
shared by inference, evaluation and training."""

from .cache import TextEmbeddingCache, default_cache, default_cache_dir, encode_texts
from .labels import ACTIONCLIP_TEMPLATES, TEMPLATE_SETS, LabelSet, build_label_set, read_labels_file
from .tokenizer import tokenize

__all__ = [
    "ACTIONCLIP_TEMPLATES",
    "LabelSet",
    "TEMPLATE_SETS",
    "TextEmbeddingCache",
    "build_label_set",
    "default_cache",
    "default_cache_dir",
    "encode_texts",
    "read_labels_file",
    "tokenize",
]
