"""The videos of a batch run: file lists, and decoding them (in DataLoader workers) into views or error items."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from ..transforms.eval import VideoTransform
from ..video import VIDEO_EXTENSIONS
from .jsonl import video_key
from .views import prepare_views

__all__ = ["InferenceVideoDataset", "find_videos", "iter_items", "unique_paths"]

PathLike = str | os.PathLike


class InferenceVideoDataset(Dataset):
    """Decoded, preprocessed views of video files; a file that fails becomes an error item, not an exception.

    Items are dicts: ``index``, ``source``, ``views`` (float32 [V, T, 3, S, S] or None), ``frame_indices``,
    ``total_frames``, ``strategy``, ``error`` / ``error_type`` (None on success), ``warnings`` (decoder warnings
    such as a truncated file).

    Args:
        videos: video file paths.
        num_frames: the model's T.
        transform: per-frame preprocessing (`VideoTransform.from_model`).
        num_clips: temporal views per video.
        strategy, backend: decoding options (see `ezclip_zoo.video.read_video_clips`).
        threads: decoder threads per item (1: workers already run in parallel).
    """

    def __init__(
        self,
        videos: Sequence[PathLike],
        num_frames: int,
        transform: VideoTransform,
        *,
        num_clips: int = 1,
        strategy: str = "auto",
        backend: str = "pyav",
        threads: int = 1,
    ) -> None:
        self.videos = [os.fspath(v) for v in videos]
        self.num_frames = num_frames
        self.transform = transform
        self.num_clips = num_clips
        self.strategy = strategy
        self.backend = backend
        self.threads = threads

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> dict[str, Any]:
        source = self.videos[index]
        item: dict[str, Any] = {"index": index, "source": source, "views": None, "error": None, "error_type": None}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                views, clips = prepare_views(
                    source,
                    self.num_frames,
                    self.transform,
                    num_clips=self.num_clips,
                    strategy=self.strategy,
                    backend=self.backend,
                    threads=self.threads,
                )
                item.update(
                    views=views, frame_indices=clips.indices, total_frames=clips.total_frames, strategy=clips.strategy
                )
            except Exception as exc:  # every failure is reported in the output, the run goes on
                item.update(error=str(exc), error_type=type(exc).__name__)
        item["warnings"] = [str(w.message) for w in caught]
        return item


def _collate(items: list) -> list:
    return items


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers run in parallel already; intra-op threads would oversubscribe the CPUs


def iter_items(dataset: InferenceVideoDataset, num_workers: int) -> Iterator[dict[str, Any]]:
    if num_workers == 0:
        for i in range(len(dataset)):
            yield dataset[i]
        return
    loader = DataLoader(
        dataset,
        batch_size=1,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_collate,
        worker_init_fn=_worker_init,
        prefetch_factor=4,
    )
    for batch in loader:
        yield from batch


def find_videos(folder: PathLike, *, recursive: bool = True, extensions: Sequence[str] = VIDEO_EXTENSIONS) -> list[str]:
    """Video files under ``folder`` (by extension, case-insensitive), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {str(root)!r} does not exist or is not a folder")
    exts = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}
    pattern = root.rglob("*") if recursive else root.glob("*")
    return sorted(str(p) for p in pattern if p.is_file() and p.suffix.lower() in exts)


def unique_paths(videos: Sequence[PathLike]) -> list[str]:
    if isinstance(videos, (str, os.PathLike)):
        raise TypeError("videos must be a list of file paths; wrap a single path in a list")
    out, seen = [], set()
    for v in videos:
        if not isinstance(v, (str, os.PathLike)):
            raise TypeError(
                f"batch inference takes video file paths, got a {type(v).__name__}; use model.classify "
                "for in-memory videos"
            )
        key = video_key(v)
        if key in seen:
            warnings.warn(f"video {os.fspath(v)!r} is listed twice; it is processed once", stacklevel=3)
            continue
        seen.add(key)
        out.append(os.fspath(v))
    return out
