"""Zero-shot classification of videos against class names: ``model.classify(video, ["dancing", ...])``."""

from __future__ import annotations

import contextlib
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from ..transforms.eval import VideoTransform
from ..video import VideoClips, is_encoded_source, is_frame_sequence, read_video_clips
from ..text.labels import ClassNames, LabelSet, build_label_set
from .result import ClassificationResult
from ..text.cache import TextEmbeddingCache, default_cache, encode_texts

__all__ = ["classify", "embed_video", "prepare_views", "encode_views", "score_views", "text_features", "is_single_video"]

_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def is_single_video(videos: Any) -> bool:
    """True when ``videos`` is one video (path, bytes, file, frames), False for a list of videos.

    A list of PIL images is one video; a 5-D array/tensor [B, T, H, W, C] is B videos.
    """
    if isinstance(videos, (np.ndarray, torch.Tensor)):
        return videos.ndim != 5
    return is_encoded_source(videos) or is_frame_sequence(videos)


def split_videos(videos: Any) -> list[Any]:
    """One video or a list/batch of videos -> a list of videos."""
    if is_single_video(videos):
        return [videos]
    if isinstance(videos, (np.ndarray, torch.Tensor)):
        return list(videos)
    if isinstance(videos, (list, tuple)):
        if not videos:
            raise ValueError("no videos given (an empty list)")
        return list(videos)
    raise TypeError(
        "videos must be a path, bytes, a binary file object, frames (list of PIL images, array, tensor) or a list of "
        f"those; got {type(videos).__name__}"
    )


def _check_dtype(model, dtype: Optional[torch.dtype]) -> Optional[torch.dtype]:
    if dtype is None or dtype == model.dtype:
        return None
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    return dtype


def _autocast(model, dtype: Optional[torch.dtype]):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=model.device.type, dtype=dtype)


@contextlib.contextmanager
def _eval_mode(model):
    """Evaluation mode for the call (dropout / drop-path off), restoring train mode afterwards."""
    was_training = model.training
    if was_training:
        model.eval()
    try:
        yield
    finally:
        if was_training:
            model.train()


def prepare_views(
    video: Any,
    model_num_frames: int,
    transform: VideoTransform,
    *,
    num_clips: int = 1,
    strategy: str = "auto",
    backend: str = "pyav",
    threads: int = 0,
) -> tuple[torch.Tensor, VideoClips]:
    """Decode and preprocess one video into model inputs.

    Returns:
        (float32 views [num_clips * num_crops, T, 3, S, S] clip-major, the `VideoClips` with indices).
    """
    clips = read_video_clips(
        video, model_num_frames, num_clips=num_clips, strategy=strategy, backend=backend, threads=threads,
        transform=transform,
    )
    # each frame is [num_crops, 3, S, S]; a clip becomes [num_crops, T, 3, S, S]
    views = torch.stack([torch.stack(frames, dim=1) for frames in clips.frames])
    return views.flatten(0, 1), clips


def encode_views(
    model, views: torch.Tensor, *, batch_size: int = 8, autocast_dtype: Optional[torch.dtype] = None
) -> torch.Tensor:
    """L2-normalised clip embeddings, ``batch_size`` clips per forward: [N, T, 3, S, S] -> float32 [N, E]."""
    out = []
    for start in range(0, views.shape[0], batch_size):
        with _autocast(model, autocast_dtype):
            features = model.encode_video(views[start : start + batch_size])
        out.append(F.normalize(features.float(), dim=-1))
    return torch.cat(out)


def score_views(
    video_features: torch.Tensor, text_feats: torch.Tensor, logit_scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities and logits of one video.

    Args:
        video_features: normalised [V, E], one row per view (clip x crop).
        text_feats: normalised [M, C, E], templates x classes.
        logit_scale: multiplier of the cosine similarities.

    Returns:
        (probabilities [C]: softmax over classes averaged over views and templates, as the reference averages
        templates and as multi-view testing averages views; logits [C], averaged likewise).
    """
    logits = logit_scale * torch.einsum("ve,mce->vmc", video_features, text_feats.to(video_features.device))
    return logits.softmax(dim=-1).mean(dim=(0, 1)).cpu(), logits.mean(dim=(0, 1)).cpu()


def text_features(
    model,
    labels: LabelSet,
    *,
    cache: Union[bool, TextEmbeddingCache, None] = True,
    autocast_dtype: Optional[torch.dtype] = None,
) -> torch.Tensor:
    """Normalised text embeddings of a label set: float32 [M, C, E] (cached unless ``cache`` is False)."""
    texts = labels.flat_texts()
    if cache is False or cache is None:
        flat = encode_texts(model, texts, autocast_dtype=autocast_dtype)
    else:
        store = default_cache() if cache is True else cache
        flat = store.get(model, texts, autocast_dtype=autocast_dtype)
    return flat.view(labels.num_templates, labels.num_classes, -1)


def make_result(
    name: str, labels: LabelSet, probs: torch.Tensor, logits: torch.Tensor, topk: int, clips: Optional[VideoClips]
) -> ClassificationResult:
    k = min(topk, labels.num_classes)
    top = torch.topk(probs, k)
    idx = top.indices.tolist()
    return ClassificationResult(
        source=name,
        labels=[labels.names[i] for i in idx],
        probabilities=[float(p) for p in top.values],
        logits=[float(logits[i]) for i in idx],
        class_names=labels.names,
        all_probabilities=probs,
        all_logits=logits,
        frame_indices=clips.indices if clips is not None else [],
        total_frames=clips.total_frames if clips is not None else 0,
        strategy=clips.strategy if clips is not None else "",
    )


def check_topk(topk: Any) -> int:
    if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
        raise ValueError(f"topk must be a positive int, got {topk!r}")
    return topk


def classify(
    model,
    videos: Any,
    class_names: ClassNames,
    *,
    topk: int = 5,
    descriptions: Optional[Union[Sequence[str], dict]] = None,
    templates: Union[None, str, Sequence[str]] = None,
    batch_size: int = 8,
    num_clips: int = 1,
    num_crops: int = 1,
    protocol: str = "clip",
    dtype: Optional[torch.dtype] = None,
    strategy: str = "auto",
    backend: str = "pyav",
    text_cache: Union[bool, TextEmbeddingCache] = True,
) -> Union[ClassificationResult, list[ClassificationResult]]:
    """Rank class names for one video or a list of videos (zero-shot).

    Args:
        model: an `EZCLIP`.
        videos: one video (a path, bytes, a binary file object, a list of PIL images, a uint8/float array or
            tensor [N, H, W, 3]) or a list of them (or a 5-D batch [B, N, H, W, 3]). N frames are sampled to the
            model's T with the reference TSN rule (segment centres); shorter videos repeat frames.
        class_names: C distinct names, or a dict name -> description.
        topk: how many ranked labels each result lists.
        descriptions: texts to encode instead of the names (list in class order or dict); see `build_label_set`.
        templates: None (the text as is), ``"actionclip"`` (the reference's 16, softmax averaged over them) or a
            list of templates with ``{}``.
        batch_size: clips per video-encoder forward pass.
        num_clips, num_crops: multi-view testing (temporal clips x spatial crops, probabilities averaged).
        protocol: ``"clip"`` (the backbone's open_clip preprocessing) or ``"reference"`` (short side 256, centre
            crop 224, as the paper evaluates).
        dtype: compute dtype, e.g. ``torch.bfloat16`` (autocast over a float32 model); None uses the model's own
            dtype (a model converted with ``model.to(torch.bfloat16)`` runs in bf16 throughout).
        strategy: frame decoding, ``"auto"``, ``"sequential"`` or ``"seek"`` (same frames either way).
        backend: ``"pyav"`` or ``"torchcodec"``.
        text_cache: True (process-wide in-memory cache), False, or a `TextEmbeddingCache`.

    Returns:
        A `ClassificationResult` for one video, a list of them (input order) for a list.

    Raises:
        VideoDecodeError / VideoNotFoundError: a video cannot be read (the message names it).
        TypeError / ValueError: bad class names (empty, duplicates, non-strings), options or frame arrays.
    """
    single = is_single_video(videos)
    items = split_videos(videos)
    labels = build_label_set(class_names, descriptions, templates)
    check_topk(topk)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    autocast_dtype = _check_dtype(model, dtype)
    transform = VideoTransform.from_model(model, protocol=protocol, num_crops=num_crops)
    results: list[ClassificationResult] = []
    with torch.inference_mode(), _eval_mode(model):
        texts = text_features(model, labels, cache=text_cache, autocast_dtype=autocast_dtype)
        pending: list[tuple[torch.Tensor, VideoClips]] = []

        def flush() -> None:
            if not pending:
                return
            features = encode_views(
                model, torch.cat([v for v, _ in pending]), batch_size=batch_size, autocast_dtype=autocast_dtype
            )
            start = 0
            for views, clips in pending:
                probs, logits = score_views(features[start : start + len(views)], texts, model.logit_scale)
                start += len(views)
                results.append(make_result(clips.name, labels, probs, logits, topk, clips))
            pending.clear()

        for video in items:
            pending.append(
                prepare_views(video, model.num_frames, transform, num_clips=num_clips, strategy=strategy,
                              backend=backend)
            )
            if sum(len(v) for v, _ in pending) >= batch_size:
                flush()
        flush()
    return results[0] if single else results


def embed_video(
    model,
    videos: Any,
    *,
    batch_size: int = 8,
    num_clips: int = 1,
    num_crops: int = 1,
    protocol: str = "clip",
    dtype: Optional[torch.dtype] = None,
    strategy: str = "auto",
    backend: str = "pyav",
) -> torch.Tensor:
    """L2-normalised video embeddings (mean over views): one video -> float32 [E], a list -> [B, E].

    Inputs and options as in `classify`.
    """
    single = is_single_video(videos)
    items = split_videos(videos)
    autocast_dtype = _check_dtype(model, dtype)
    transform = VideoTransform.from_model(model, protocol=protocol, num_crops=num_crops)
    out = []
    with torch.inference_mode(), _eval_mode(model):
        for video in items:
            views, _ = prepare_views(video, model.num_frames, transform, num_clips=num_clips, strategy=strategy,
                                     backend=backend)
            features = encode_views(model, views, batch_size=batch_size, autocast_dtype=autocast_dtype)
            out.append(F.normalize(features.mean(dim=0), dim=-1).cpu())
    return out[0] if single else torch.stack(out)
