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
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from typing_extensions import Unpack

from ..digest import change_token, tensor_digest
from ..text.cache import TextEmbeddingCache, text_features
from ..text.labels import ClassNames
from ..video import VIDEO_EXTENSIONS
from .classification import check_topk, label_set_for, make_result
from .files import InferenceVideoDataset, find_videos, iter_items, unique_paths
from .jsonl import ResultsFile, video_key
from .options import InferenceKwargs, InferenceOptions, make_options
from .result import ClassificationResult, EmbeddingResult, VideoError
from .scoring import presence_views, score_views
from .views import encode_batches, eval_mode

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = [
    "BatchJob",
    "BatchReport",
    "classify_videos",
    "classify_folder",
    "embed_videos",
    "local_engine",
    "model_digest",
]

PathLike = str | os.PathLike
Maker = Callable[[dict[str, Any], torch.Tensor], tuple[Any, dict[str, Any]]]
_DIGESTS: weakref.WeakKeyDictionary[torch.nn.Module, tuple[tuple, str]] = weakref.WeakKeyDictionary()


def model_digest(model: torch.nn.Module) -> str:
    """sha256 of every parameter and buffer of the model (memoised until a tensor changes)."""
    tensors = list(model.state_dict().items())
    token = change_token(t for _, t in tensors)
    cached = _DIGESTS.get(model)
    if cached is None or cached[0] != token:
        cached = (token, tensor_digest(tensors))
        _DIGESTS[model] = cached
    return cached[1]


def _setup_id(model: EZCLIP, options: InferenceOptions, **fields: Any) -> str:
    described = {k: v for k, v in asdict(options).items() if k in ("num_clips", "num_crops", "protocol")}
    dtype = str(options.autocast_dtype(model) or model.dtype)
    blob = json.dumps(
        {"model": model_digest(model), **described, "dtype": dtype, **fields}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BatchJob:
    """Where a batch run's results go and how it resumes.

    Attributes:
        output: ``.jsonl`` file: one record per video (None: results are only returned).
        num_workers: decoding processes (0: decode in this process).
        resume: skip videos already in ``output`` (False: overwrite it).
        retry_errors: with ``resume``, try the videos recorded as errors again.
        progress: show a tqdm progress bar.
        keep_results: also return the result objects (default: only when there is no ``output``).
        on_result: called with each result / `VideoError` once its record is written (streaming consumers, custom
            progress); an exception it raises stops the run with everything so far saved.
    """

    output: PathLike | None = None
    num_workers: int = 0
    resume: bool = True
    retry_errors: bool = False
    progress: bool = True
    keep_results: bool | None = None
    on_result: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.num_workers, int) or isinstance(self.num_workers, bool) or self.num_workers < 0:
            raise ValueError(f"num_workers must be an int >= 0, got {self.num_workers!r}")


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

    output: str | None
    total: int
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    results: list = field(default_factory=list)


class _Recorder:
    """Turns each video's features (or its error) into a record: written, kept, counted, reported."""

    def __init__(
        self, job: BatchJob, report: BatchReport, results_file: ResultsFile | None, make: Maker, bar: Any
    ) -> None:
        self.job, self.report, self.results_file, self.make, self.bar = job, report, results_file, make, bar
        self.keep = job.output is None if job.keep_results is None else job.keep_results

    def __call__(self, item: dict[str, Any], features: torch.Tensor | None) -> None:
        base = {"source": item["source"], "path": video_key(item["source"])}
        if features is None:
            obj = VideoError(source=item["source"], error=item["error"], error_type=item["error_type"])
            record = {**base, **obj.to_dict()}
            self.report.failed += 1
        else:
            obj, fields = self.make(item, features)
            record = {**base, **fields}
        if item.get("warnings"):
            record["warnings"] = item["warnings"]
        if self.results_file is not None:
            self.results_file.write(record)
        if self.keep:
            self.report.results.append(obj)
        self.report.processed += 1
        self.bar.update(1)
        if self.job.on_result is not None:
            self.job.on_result(obj)


Engine = Callable[
    ["EZCLIP", InferenceVideoDataset, InferenceOptions, BatchJob], Iterator[tuple[dict[str, Any], torch.Tensor | None]]
]


def local_engine(
    model: EZCLIP, dataset: InferenceVideoDataset, options: InferenceOptions, job: BatchJob
) -> Iterator[tuple[dict[str, Any], torch.Tensor | None]]:
    """This process's engine: decode in ``job.num_workers`` DataLoader workers, encode in batches across videos.

    An engine takes (model, dataset, options, job) and yields (item, features [V, E] or None), one per video of
    ``dataset``, in its order (`ezclip_zoo.inference.ray.ray_engine` is the other one)."""
    with eval_mode(model):
        prepared = ((item["views"], item) for item in iter_items(dataset, job.num_workers))
        yield from encode_batches(
            model, prepared, batch_size=options.batch_size, autocast_dtype=options.autocast_dtype(model)
        )


def _run(
    model: EZCLIP,
    videos: Sequence[PathLike],
    options: InferenceOptions,
    job: BatchJob,
    setup: str,
    make: Maker,
    engine: Engine | None = None,
) -> BatchReport:
    """The shared loop: an engine decodes and encodes (`local_engine` by default), features become records."""
    from tqdm.auto import tqdm

    paths = unique_paths(videos)
    report = BatchReport(output=os.fspath(job.output) if job.output is not None else None, total=len(paths))
    results_file = (
        ResultsFile(job.output, setup, resume=job.resume, retry_errors=job.retry_errors) if job.output else None
    )
    bar = None
    try:
        todo = [p for p in paths if results_file is None or not results_file.is_done(p)]
        report.skipped = len(paths) - len(todo)
        dataset = InferenceVideoDataset(
            todo,
            model.num_frames,
            options.transform(model),
            num_clips=options.num_clips,
            strategy=options.strategy,
            backend=options.backend,
            threads=1 if job.num_workers else 0,
        )
        bar = tqdm(total=len(paths), initial=report.skipped, unit="video", disable=not job.progress, dynamic_ncols=True)
        record = _Recorder(job, report, results_file, make, bar)
        for item, features in (engine or local_engine)(model, dataset, options, job):
            record(item, features)
    finally:  # interrupted or not: every record written so far is on disk
        if bar is not None:
            bar.close()
        if results_file is not None:
            results_file.close()
    return report


def _job(
    output: PathLike | None,
    num_workers: int,
    resume: bool,
    retry_errors: bool,
    progress: bool,
    keep_results: bool | None,
    on_result: Callable[[Any], None] | None,
) -> BatchJob:
    return BatchJob(
        output=output,
        num_workers=num_workers,
        resume=resume,
        retry_errors=retry_errors,
        progress=progress,
        keep_results=keep_results,
        on_result=on_result,
    )


def classify_videos(
    model: EZCLIP,
    videos: Sequence[PathLike],
    class_names: str | ClassNames,
    *,
    output: PathLike | None = None,
    topk: int = 5,
    descriptions: Sequence[str] | dict | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
    text_cache: bool | TextEmbeddingCache = True,
    all_classes: bool = False,
    num_workers: int = 0,
    resume: bool = True,
    retry_errors: bool = False,
    progress: bool = True,
    keep_results: bool | None = None,
    on_result: Callable[[Any], None] | None = None,
    engine: Engine | None = None,
    options: InferenceOptions | None = None,
    **kwargs: Unpack[InferenceKwargs],
) -> BatchReport:
    """Classify many video files, optionally into a resumable JSON Lines file.

    Args:
        model: an `EZCLIP`.
        videos: file paths (duplicates are processed once).
        class_names, topk, descriptions, templates, text, text_cache: as in `classify` (a class-set name too).
        output, num_workers, resume, retry_errors, progress, keep_results, on_result: see `BatchJob`. Records hold
            ``source``, ``path``, ``labels``, ``probabilities``, ``logits``, ``total_frames``, ``frame_indices``,
            ``setup``; or ``error`` and ``error_type``.
        all_classes: records also hold every class's probability.
        engine: who decodes and encodes: this process (`local_engine`, default) or a Ray cluster
            (`ezclip_zoo.inference.ray.ray_engine`); the records are the same.
        options / kwargs: `InferenceOptions` (batch_size, num_clips, num_crops, protocol, dtype, strategy, backend).

    Returns:
        A `BatchReport`.
    """
    opts = make_options(options, kwargs)
    job = _job(output, num_workers, resume, retry_errors, progress, keep_results, on_result)
    labels, source = label_set_for(model, class_names, descriptions, templates, text)
    check_topk(topk)
    setup = _setup_id(model, opts, kind="classify", labels=labels.digest(), topk=topk, all_classes=all_classes)
    with eval_mode(model):
        texts = text_features(model, labels, cache=text_cache, autocast_dtype=opts.autocast_dtype(model))

    def make(item: dict[str, Any], features: torch.Tensor) -> tuple[ClassificationResult, dict[str, Any]]:
        probs, logits = score_views(features, texts, model.logit_scale)
        calibration = model.presence_scale_bias
        presence = None if calibration is None else presence_views(features, texts, calibration)
        result = make_result(item["source"], labels, probs, logits, topk, None, source, presence=presence)
        result.frame_indices, result.total_frames, result.strategy = (
            item["frame_indices"],
            item["total_frames"],
            item["strategy"],
        )
        record = result.to_dict(all_classes=all_classes)
        record.pop("source")
        record["model"] = model.config.name
        return result, record

    return _run(model, videos, opts, job, setup, make, engine)


def classify_folder(
    model: EZCLIP,
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
    model: EZCLIP,
    videos: Sequence[PathLike],
    *,
    output: PathLike | None = None,
    num_workers: int = 0,
    resume: bool = True,
    retry_errors: bool = False,
    progress: bool = True,
    keep_results: bool | None = None,
    on_result: Callable[[Any], None] | None = None,
    options: InferenceOptions | None = None,
    **kwargs: Unpack[InferenceKwargs],
) -> BatchReport:
    """Video embeddings (L2-normalised mean over views, float32 [E]) of many files; options as `classify_videos`.

    Records hold ``source``, ``path``, ``embedding`` (E floats), ``total_frames``, ``frame_indices``, ``setup``.
    """
    opts = make_options(options, kwargs)
    job = _job(output, num_workers, resume, retry_errors, progress, keep_results, on_result)
    setup = _setup_id(model, opts, kind="embed")

    def make(item: dict[str, Any], features: torch.Tensor) -> tuple[EmbeddingResult, dict[str, Any]]:
        embedding = torch.nn.functional.normalize(features.mean(dim=0), dim=-1).cpu()
        result = EmbeddingResult(
            source=item["source"],
            embedding=embedding,
            total_frames=item["total_frames"],
            frame_indices=item["frame_indices"],
        )
        record = result.to_dict()
        record.pop("source")
        record["model"] = model.config.name
        return result, record

    return _run(model, videos, opts, job, setup, make)
