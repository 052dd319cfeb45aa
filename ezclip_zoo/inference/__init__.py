"""Inference: zero-shot classification and embeddings of videos, one call or a whole folder.

* `classify(model, video_or_videos, class_names, ...)` (also ``model.classify``) -> `ClassificationResult`(s);
* `embed_video(model, video_or_videos)` -> normalised embeddings;
* `classify_videos` / `classify_folder` / `embed_videos`: many files, DataLoader workers, resumable JSON Lines;
* `InferenceOptions`: the options every one of them takes (also as keywords);
* `class_probabilities` / `encode_class_texts` / `score_views`: the zero-shot scoring that evaluation shares.

Label sets, templates and the text-embedding cache are `ezclip_zoo.text`'s; when each action happens in a long video
is `ezclip_zoo.localization.localize`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .batch import BatchJob, BatchReport, classify_folder, classify_videos, embed_videos
    from .classification import classify, embed_video
    from .files import InferenceVideoDataset, find_videos
    from .jsonl import ResultsFile, read_jsonl
    from .options import InferenceKwargs, InferenceOptions
    from .result import ClassificationResult, EmbeddingResult, VideoError
    from .scoring import class_probabilities, encode_class_texts, score_views
    from .views import encode_views, prepare_views

__all__ = [
    "BatchJob",
    "BatchReport",
    "ClassificationResult",
    "EmbeddingResult",
    "InferenceKwargs",
    "InferenceOptions",
    "InferenceVideoDataset",
    "ResultsFile",
    "VideoError",
    "class_probabilities",
    "classify",
    "classify_folder",
    "classify_videos",
    "embed_video",
    "embed_videos",
    "encode_class_texts",
    "encode_views",
    "find_videos",
    "prepare_views",
    "read_jsonl",
    "score_views",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".batch": ("BatchJob", "BatchReport", "classify_folder", "classify_videos", "embed_videos"),
        ".classification": ("classify", "embed_video"),
        ".files": ("InferenceVideoDataset", "find_videos"),
        ".jsonl": ("ResultsFile", "read_jsonl"),
        ".options": ("InferenceKwargs", "InferenceOptions"),
        ".result": ("ClassificationResult", "EmbeddingResult", "VideoError"),
        ".scoring": ("class_probabilities", "encode_class_texts", "score_views"),
        ".views": ("encode_views", "prepare_views"),
    },
)
