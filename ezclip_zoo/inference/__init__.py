"""Inference: zero-shot classification and embeddings of videos, one call or a whole folder.

* `classify(model, video_or_videos, class_names, ...)` (also ``model.classify``) -> `ClassificationResult`(s);
* `embed_video(model, video_or_videos)` -> normalised embeddings;
* `classify_videos` / `classify_folder` / `embed_videos`: many files, DataLoader workers, resumable JSON Lines;
* `TextEmbeddingCache`: text embeddings cached per (model, texts), in memory and optionally on disk.
"""

from .batch import BatchReport, InferenceVideoDataset, classify_folder, classify_videos, embed_videos, find_videos
from .classify import classify, embed_video, encode_views, prepare_views, score_views, text_features
from .jsonl import ResultsFile, read_jsonl
from ..text.labels import ACTIONCLIP_TEMPLATES, TEMPLATE_SETS, LabelSet, build_label_set, read_labels_file
from .result import ClassificationResult, EmbeddingResult, VideoError
from ..text.cache import TextEmbeddingCache, default_cache, default_cache_dir, encode_texts

__all__ = [
    "ACTIONCLIP_TEMPLATES",
    "TEMPLATE_SETS",
    "BatchReport",
    "ClassificationResult",
    "EmbeddingResult",
    "LabelSet",
    "ResultsFile",
    "TextEmbeddingCache",
    "InferenceVideoDataset",
    "VideoError",
    "build_label_set",
    "classify",
    "classify_folder",
    "classify_videos",
    "default_cache",
    "default_cache_dir",
    "embed_video",
    "embed_videos",
    "encode_texts",
    "encode_views",
    "find_videos",
    "prepare_views",
    "read_jsonl",
    "read_labels_file",
    "score_views",
    "text_features",
]
