"""From videos to clip embeddings: decode and preprocess views, then encode them in batches across videos.

`encode_batches` is the one batching routine of `classify`, `embed_video` and the batch functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np
import torch
import torch.nn.functional as F

from ..precision import autocast
from ..transforms.eval import VideoTransform
from ..video import VideoClips, is_encoded_source, is_frame_sequence, read_video_clips

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["is_single_video", "split_videos", "eval_mode", "prepare_views", "encode_views", "encode_batches"]

Meta = TypeVar("Meta")


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


@contextlib.contextmanager
def eval_mode(model: EZCLIP) -> Iterator[None]:
    """Inference for the call: ``torch.inference_mode`` and eval mode (dropout / drop-path off), restoring train
    mode afterwards."""
    was_training = model.training
    if was_training:
        model.eval()
    try:
        with torch.inference_mode():
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
        video,
        model_num_frames,
        num_clips=num_clips,
        strategy=strategy,
        backend=backend,
        threads=threads,
        transform=transform,
    )
    # each frame is [num_crops, 3, S, S]; a clip becomes [num_crops, T, 3, S, S]
    views = torch.stack([torch.stack(frames, dim=1) for frames in clips.frames])
    return views.flatten(0, 1), clips


def encode_views(
    model: EZCLIP, views: torch.Tensor, *, batch_size: int = 8, autocast_dtype: torch.dtype | None = None
) -> torch.Tensor:
    """L2-normalised clip embeddings, ``batch_size`` clips per forward: [N, T, 3, S, S] -> float32 [N, E]."""
    out = []
    for start in range(0, views.shape[0], batch_size):
        with autocast(model.device, autocast_dtype):
            features = model.encode_video(views[start : start + batch_size])
        out.append(F.normalize(features.float(), dim=-1))
    return torch.cat(out)


@overload
def encode_batches(
    model: EZCLIP,
    prepared: Iterable[tuple[torch.Tensor, Meta]],
    *,
    batch_size: int,
    autocast_dtype: torch.dtype | None = None,
) -> Iterator[tuple[Meta, torch.Tensor]]: ...


@overload
def encode_batches(
    model: EZCLIP,
    prepared: Iterable[tuple[torch.Tensor | None, Meta]],
    *,
    batch_size: int,
    autocast_dtype: torch.dtype | None = None,
) -> Iterator[tuple[Meta, torch.Tensor | None]]: ...


def encode_batches(
    model: EZCLIP,
    prepared: Iterable[tuple[torch.Tensor | None, Meta]],
    *,
    batch_size: int,
    autocast_dtype: torch.dtype | None = None,
) -> Iterator[tuple[Meta, torch.Tensor | None]]:
    """Encode the views of many videos, ``batch_size`` clips per forward pass across video boundaries.

    Args:
        model: an `EZCLIP` (in eval mode, under ``torch.inference_mode``: the caller's `eval_mode`).
        prepared: (views [V, T, 3, S, S] or None for a video that failed, anything to pass through) per video.
        batch_size: clips per forward pass.
        autocast_dtype: compute dtype (None: the model's own).

    Yields:
        (the passed-through value, normalised float32 features [V, E] or None), in input order, as soon as the
        batch holding a video's last view is encoded.
    """
    pending: list[tuple[torch.Tensor | None, Meta]] = []

    def flush() -> Iterator[tuple[Meta, torch.Tensor | None]]:
        ready = [views for views, _ in pending if views is not None]
        features = (
            encode_views(model, torch.cat(ready), batch_size=batch_size, autocast_dtype=autocast_dtype)
            if ready
            else None
        )
        start = 0
        for views, meta in pending:
            if views is None or features is None:  # features is None only when every video of the batch failed
                yield meta, None
                continue
            yield meta, features[start : start + len(views)]
            start += len(views)
        pending.clear()

    for views, meta in prepared:
        pending.append((views, meta))
        if sum(len(v) for v, _ in pending if v is not None) >= batch_size:
            yield from flush()
    yield from flush()
