"""Inference: zero-shot classification and embeddings of videos, one call or a whole folder.

* `classify(model, video_or_videos, class_names, ...)` (also ``model.classify``) -> `ClassificationResult`(s);
* `embed_video(model, video_or_videos)` -> normalised embeddings;
* `localize(model, long_video, class_names, window_s=..., stride_s=...)` (also ``model.localize``) -> when each
  action happens (`LocalizationResult`: window scores and segments);
* `classify_videos` / `classify_folder` / `embed_videos`: many files, DataLoader workers, resumable JSON Lines;
* `InferenceOptions`: the options every one of them takes (also as keywords);
* `TextEmbeddingCache` (from `ezclip_zoo.text`): text embeddings cached per (model, texts), in memory and on disk.
"""

from ..text import ACTIONCLIP_TEMPLATES, TEMPLATE_SETS, LabelSet, build_label_set, read_labels_file
from ..text.cache import TextEmbeddingCache, default_cache, default_cache_dir, encode_texts, text_features
from .batch import BatchJob, BatchReport, classify_folder, classify_videos, embed_videos
from .classify import classify, embed_video
from .files import InferenceVideoDataset, find_videos
from .localize import localize
from .jsonl import ResultsFile, read_jsonl
from .options import InferenceKwargs, InferenceOptions
from .result import ClassificationResult, EmbeddingResult, VideoError
from .scoring import class_probabilities, encode_class_texts, score_views
from .views import encode_views, prepare_views

__all__ = [
    "ACTIONCLIP_TEMPLATES",
    "TEMPLATE_SETS",
    "BatchJob",
    "BatchReport",
    "ClassificationResult",
    "EmbeddingResult",
    "InferenceKwargs",
    "InferenceOptions",
    "InferenceVideoDataset",
    "LabelSet",
    "ResultsFile",
    "TextEmbeddingCache",
    "VideoError",
    "build_label_set",
    "class_probabilities",
    "classify",
    "classify_folder",
    "classify_videos",
    "default_cache",
    "default_cache_dir",
    "embed_video",
    "embed_videos",
    "encode_class_texts",
    "encode_texts",
    "encode_views",
    "find_videos",
    "localize",
    "prepare_views",
    "read_jsonl",
    "read_labels_file",
    "score_views",
    "text_features",
]
