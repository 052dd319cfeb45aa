"""Batch inference over many video files: decoding in DataLoader workers, JSON Lines output with resume.

`classify_videos` / `classify_folder` rank labels and `embed_videos` computes video embeddings for a list of
files. Videos are decoded and preprocessed in ``num_workers`` processes (one thread each) while the main process
runs the model; each finished video becomes one JSON line, flushed at once. Re-running with the same output skips
what is done; an unreadable file becomes an error record (``{"source", "error", "error_type"}``) instead of
stopping the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import torch
from torch.utils.data import DataLoader, Dataset

from ..transforms.eval import VideoTransform
from ..video import VIDEO_EXTENSIONS
from .classify import (
    _check_dtype,
    _eval_mode,
    check_topk,
    encode_views,
    make_result,
    prepare_views,
    score_views,
    text_features,
)
from .jsonl import ResultsFile, video_key
from ..text.labels import ClassNames, build_label_set
from .result import ClassificationResult, EmbeddingResult, VideoError
from ..text.cache import TextEmbeddingCache

__all__ = [
    "InferenceVideoDataset",
    "BatchReport",
    "classify_videos",
    "classify_folder",
    "embed_videos",
    "find_videos",
    "model_digest",
]

PathLike = Union[str, os.PathLike]


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
                    source, self.num_frames, self.transform, num_clips=self.num_clips, strategy=self.strategy,
                    backend=self.backend, threads=self.threads,
                )
                item.update(views=views, frame_indices=clips.indices, total_frames=clips.total_frames,
                            strategy=clips.strategy)
            except Exception as exc:  # every failure is reported in the output, the run goes on
                item.update(error=str(exc), error_type=type(exc).__name__)
        item["warnings"] = [str(w.message) for w in caught]
        return item


def _collate(items: list) -> list:
    return items


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # workers run in parallel already; intra-op threads would oversubscribe the CPUs


def _iter_items(dataset: InferenceVideoDataset, num_workers: int) -> Iterator[dict[str, Any]]:
    if num_workers == 0:
        for i in range(len(dataset)):
            yield dataset[i]
        return
    loader = DataLoader(
        dataset, batch_size=1, shuffle=False, num_workers=num_workers, collate_fn=_collate,
        worker_init_fn=_worker_init, prefetch_factor=4,
    )
    for batch in loader:
        yield from batch


def find_videos(
    folder: PathLike, *, recursive: bool = True, extensions: Sequence[str] = VIDEO_EXTENSIONS
) -> list[str]:
    """Video files under ``folder`` (by extension, case-insensitive), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"video folder {str(root)!r} does not exist or is not a folder")
    exts = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}
    pattern = root.rglob("*") if recursive else root.glob("*")
    return sorted(str(p) for p in pattern if p.is_file() and p.suffix.lower() in exts)


_DIGESTS: "weakref.WeakKeyDictionary[torch.nn.Module, tuple]" = weakref.WeakKeyDictionary()


def model_digest(model) -> str:
    """sha256 of every parameter and buffer of the model (memoised until a tensor changes)."""
    tensors = list(model.state_dict().items())
    fingerprint = tuple((t.data_ptr(), t._version, t.dtype) for _, t in tensors)
    cached = _DIGESTS.get(model)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    h = hashlib.sha256()
    for name, t in tensors:
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    digest = h.hexdigest()
    _DIGESTS[model] = (fingerprint, digest)
    return digest


def _setup_id(model, **options: Any) -> str:
    blob = json.dumps({"model": model_digest(model), **options}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class BatchReport:
    """What a batch run did.

    Attributes:
        output: the JSON Lines file (None when results were only returned).
        total: distinct videos asked for.
        processed: videos run now (successes and failures).
        skipped: videos already in the output from an earlier run.
        failed: videos of this run that could not be read (error records).
        results: this run's `ClassificationResult` / `EmbeddingResult` / `VideoError` objects, in input order,
            when kept (by default only without an output file).
    """

    output: Optional[str]
    total: int
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    results: list = field(default_factory=list)


def _unique_paths(videos: Sequence[PathLike]) -> list[str]:
    if isinstance(videos, (str, os.PathLike)):
        raise TypeError("videos must be a list of file paths; wrap a single path in a list")
    out, seen = [], set()
    for v in videos:
        if not isinstance(v, (str, os.PathLike)):
            raise TypeError(f"batch inference takes video file paths, got a {type(v).__name__}; use model.classify "
                            "for in-memory videos")
        key = video_key(v)
        if key in seen:
            warnings.warn(f"video {os.fspath(v)!r} is listed twice; it is processed once", stacklevel=3)
            continue
        seen.add(key)
        out.append(os.fspath(v))
    return out


def _run(
    model,
    videos: Sequence[PathLike],
    *,
    output: Optional[PathLike],
    setup: str,
    transform: VideoTransform,
    num_clips: int,
    batch_size: int,
    num_workers: int,
    strategy: str,
    backend: str,
    autocast_dtype: Optional[torch.dtype],
    make: Callable[[dict[str, Any], torch.Tensor], tuple[Any, dict[str, Any]]],
    resume: bool,
    retry_errors: bool,
    progress: bool,
    keep_results: Optional[bool],
    on_result: Optional[Callable[[Any], None]] = None,
) -> BatchReport:
    """The shared loop: decode in workers, encode in batches, turn features into records, write them."""
    from tqdm.auto import tqdm

    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an int >= 0, got {num_workers!r}")
    paths = _unique_paths(videos)
    keep = output is None if keep_results is None else keep_results
    report = BatchReport(output=os.fspath(output) if output is not None else None, total=len(paths))
    results_file = ResultsFile(output, setup, resume=resume, retry_errors=retry_errors) if output else None
    bar = None
    try:
        todo = [p for p in paths if results_file is None or not results_file.is_done(p)]
        report.skipped = len(paths) - len(todo)
        dataset = InferenceVideoDataset(
            todo, model.num_frames, transform, num_clips=num_clips, strategy=strategy, backend=backend,
            threads=1 if num_workers else 0,
        )
        bar = tqdm(total=len(paths), initial=report.skipped, unit="video", disable=not progress, dynamic_ncols=True)
        pending: list[dict[str, Any]] = []

        def emit(item: dict[str, Any], features: Optional[torch.Tensor]) -> None:
            base = {"source": item["source"], "path": video_key(item["source"])}
            if features is None:
                obj = VideoError(source=item["source"], error=item["error"], error_type=item["error_type"])
                record = {**base, **obj.to_dict()}
                report.failed += 1
            else:
                obj, fields = make(item, features)
                record = {**base, **fields}
            if item.get("warnings"):
                record["warnings"] = item["warnings"]
            if results_file is not None:
                results_file.write(record)
            if keep:
                report.results.append(obj)
            report.processed += 1
            bar.update(1)
            if on_result is not None:
                on_result(obj)

        def flush() -> None:
            ready = [it for it in pending if it["views"] is not None]
            if ready:
                features = encode_views(
                    model, torch.cat([it["views"] for it in ready]), batch_size=batch_size,
                    autocast_dtype=autocast_dtype,
                )
            start = 0
            for item in pending:  # input order, failures included
                if item["views"] is None:
                    emit(item, None)
                    continue
                n = len(item["views"])
                emit(item, features[start : start + n])
                start += n
            pending.clear()

        with torch.inference_mode(), _eval_mode(model):
            for item in _iter_items(dataset, num_workers):
                pending.append(item)
                if sum(len(it["views"]) for it in pending if it["views"] is not None) >= batch_size:
                    flush()
            flush()
    finally:  # interrupted or not: every record written so far is on disk
        if bar is not None:
            bar.close()
        if results_file is not None:
            results_file.close()
    return report


def classify_videos(
    model,
    videos: Sequence[PathLike],
    class_names: ClassNames,
    *,
    output: Optional[PathLike] = None,
    topk: int = 5,
    descriptions: Optional[Union[Sequence[str], dict]] = None,
    templates: Union[None, str, Sequence[str]] = None,
    batch_size: int = 8,
    num_workers: int = 0,
    num_clips: int = 1,
    num_crops: int = 1,
    protocol: str = "clip",
    dtype: Optional[torch.dtype] = None,
    strategy: str = "auto",
    backend: str = "pyav",
    text_cache: Union[bool, TextEmbeddingCache] = True,
    resume: bool = True,
    retry_errors: bool = False,
    progress: bool = True,
    keep_results: Optional[bool] = None,
    all_classes: bool = False,
    on_result: Optional[Callable[[Any], None]] = None,
) -> BatchReport:
    """Classify many video files, optionally into a resumable JSON Lines file.

    Args:
        model: an `EZCLIP`.
        videos: file paths (duplicates are processed once).
        class_names, topk, descriptions, templates, num_clips, num_crops, protocol, dtype, strategy, backend,
        text_cache: as in `classify`.
        output: ``.jsonl`` file: one record per video (``source``, ``path``, ``labels``, ``probabilities``,
            ``logits``, ``total_frames``, ``frame_indices``, ``setup``; or ``error`` and ``error_type``).
        batch_size: clips per video-encoder forward pass.
        num_workers: decoding processes (0: decode in this process).
        resume: skip videos already in ``output`` (False: overwrite it).
        retry_errors: with ``resume``, try the videos recorded as errors again.
        progress: show a tqdm progress bar.
        keep_results: also return the result objects (default: only when there is no ``output``).
        all_classes: records also hold every class's probability.
        on_result: called with each `ClassificationResult` / `VideoError` once its record is written (streaming
            consumers, custom progress); an exception it raises stops the run with everything so far saved.

    Returns:
        A `BatchReport`.
    """
    labels = build_label_set(class_names, descriptions, templates)
    check_topk(topk)
    autocast_dtype = _check_dtype(model, dtype)
    transform = VideoTransform.from_model(model, protocol=protocol, num_crops=num_crops)
    setup = _setup_id(
        model, kind="classify", labels=labels.digest(), topk=topk, num_clips=num_clips, num_crops=num_crops,
        protocol=protocol, dtype=str(autocast_dtype or model.dtype), all_classes=all_classes,
    )
    with torch.inference_mode(), _eval_mode(model):
        texts = text_features(model, labels, cache=text_cache, autocast_dtype=autocast_dtype)

    def make(item: dict[str, Any], features: torch.Tensor) -> tuple[ClassificationResult, dict[str, Any]]:
        probs, logits = score_views(features, texts, model.logit_scale)
        result = make_result(item["source"], labels, probs, logits, topk, None)
        result.frame_indices, result.total_frames, result.strategy = (
            item["frame_indices"], item["total_frames"], item["strategy"],
        )
        record = result.to_dict(all_classes=all_classes)
        record.pop("source")
        record["model"] = model.config.name
        return result, record

    return _run(
        model, videos, output=output, setup=setup, transform=transform, num_clips=num_clips, batch_size=batch_size,
        num_workers=num_workers, strategy=strategy, backend=backend, autocast_dtype=autocast_dtype, make=make,
        resume=resume, retry_errors=retry_errors, progress=progress, keep_results=keep_results, on_result=on_result,
    )


def classify_folder(
    model,
    folder: PathLike,
    class_names: ClassNames,
    *,
    recursive: bool = True,
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
    **kwargs: Any,
) -> BatchReport:
    """`classify_videos` over the video files of a folder (by extension; sorted; recursive by default)."""
    videos = find_videos(folder, recursive=recursive, extensions=extensions)
    if not videos:
        raise FileNotFoundError(f"no video files ({', '.join(extensions)}) in {os.fspath(folder)!r}")
    return classify_videos(model, videos, class_names, **kwargs)


def embed_videos(
    model,
    videos: Sequence[PathLike],
    *,
    output: Optional[PathLike] = None,
    batch_size: int = 8,
    num_workers: int = 0,
    num_clips: int = 1,
    num_crops: int = 1,
    protocol: str = "clip",
    dtype: Optional[torch.dtype] = None,
    strategy: str = "auto",
    backend: str = "pyav",
    resume: bool = True,
    retry_errors: bool = False,
    progress: bool = True,
    keep_results: Optional[bool] = None,
    on_result: Optional[Callable[[Any], None]] = None,
) -> BatchReport:
    """Video embeddings (L2-normalised mean over views, float32 [E]) of many files; options as `classify_videos`.

    Records hold ``source``, ``path``, ``embedding`` (E floats), ``total_frames``, ``frame_indices``, ``setup``.
    """
    autocast_dtype = _check_dtype(model, dtype)
    transform = VideoTransform.from_model(model, protocol=protocol, num_crops=num_crops)
    setup = _setup_id(
        model, kind="embed", num_clips=num_clips, num_crops=num_crops, protocol=protocol,
        dtype=str(autocast_dtype or model.dtype),
    )

    def make(item: dict[str, Any], features: torch.Tensor) -> tuple[EmbeddingResult, dict[str, Any]]:
        embedding = torch.nn.functional.normalize(features.mean(dim=0), dim=-1).cpu()
        result = EmbeddingResult(
            source=item["source"], embedding=embedding, total_frames=item["total_frames"],
            frame_indices=item["frame_indices"],
        )
        record = result.to_dict()
        record.pop("source")
        record["model"] = model.config.name
        return result, record

    return _run(
        model, videos, output=output, setup=setup, transform=transform, num_clips=num_clips, batch_size=batch_size,
        num_workers=num_workers, strategy=strategy, backend=backend, autocast_dtype=autocast_dtype, make=make,
        resume=resume, retry_errors=retry_errors, progress=progress, keep_results=keep_results, on_result=on_result,
    )

