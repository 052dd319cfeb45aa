"""`evaluate_dataset`: a protocol run over a dataset in one call, the one ``ezclip-zoo evaluate`` runs: zero-shot
over several official splits or test files (mean +- std), or base-to-novel; `summary_line` is its one-line
summary. The results dict is what `write_report` takes."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..choices import EVALUATION_PROTOCOLS
from ..data.csv_list import as_class_descriptions, as_class_list
from ..data.formats import read_dataset
from ..data.records import VideoSplit
from ..data.splits import base_novel_classes
from ..modeling.model import EZCLIP
from .metrics import mean_std
from .protocols import evaluate_base_to_novel, evaluate_splits

__all__ = ["evaluate_dataset", "read_test_splits", "summary_line"]

PathLike = str | os.PathLike[str]
logger = logging.getLogger(__name__)


def read_test_splits(
    format: str,
    *,
    video_root: PathLike | None = None,
    annotations: PathLike | None = None,
    splits: Sequence[int] = (1,),
    test: PathLike | Sequence[PathLike] | None = None,
    labels: PathLike | None = None,
) -> list[VideoSplit]:
    """The test splits `evaluate_dataset` scores: ucf101/hmdb51 the official ``splits`` (1-3) under
    ``annotations``, the other formats one split per ``test`` file (a CSV, or an SSv2 JSON with ``labels``)."""
    if format in ("ucf101", "hmdb51"):
        return [read_dataset(format, annotations=annotations, video_root=video_root, split=s)["test"] for s in splits]
    if test is None:
        raise ValueError(f"format {format!r} needs test annotation file(s), one per split (--test FILE [FILE ...])")
    files = [test] if isinstance(test, (str, os.PathLike)) else list(test)
    if not files:
        raise ValueError(f"format {format!r} needs at least one test annotation file")
    return [read_dataset(format, test=t, video_root=video_root, labels=labels)["test"] for t in files]


def _model(
    model: PathLike | EZCLIP,
    *,
    device: str | torch.device | None,
    dtype: torch.dtype | None,
    seed: int,
    pretrained_backbone: bool,
    overrides: Mapping[str, Any] | None,
) -> EZCLIP:
    """The model to score: as given (moved to ``device``/``dtype`` when given), or `ezclip_zoo.zoo.loading.load`'s."""
    from ..zoo.loading import load

    if isinstance(model, EZCLIP):
        if overrides or not pretrained_backbone:
            raise ValueError(
                "overrides and pretrained_backbone=False apply to a model given by name; the EZCLIP "
                "passed is built already"
            )
        return model if device is None and dtype is None else model.to(device=device, dtype=dtype)
    return load(
        model,
        device=device,
        dtype=dtype,
        seed=seed,
        pretrained_backbone=pretrained_backbone,
        overrides=overrides or None,
    )


def _base_to_novel(
    model: EZCLIP,
    splits: Sequence[VideoSplit],
    base_classes: PathLike | Sequence[str] | None,
    novel_classes: PathLike | Sequence[str] | None,
    common: dict[str, Any],
) -> dict[str, Any]:
    """Base-to-novel on every split (given class lists, else each split's halves) and their mean +- std."""
    base = as_class_list(base_classes) if base_classes is not None else None
    novel = as_class_list(novel_classes) if novel_classes is not None else None
    runs = []
    for split in splits:
        halves = base_novel_classes(split.classes)
        runs.append(evaluate_base_to_novel(model, split, base or halves[0], novel or halves[1], **common))
    results: dict[str, Any] = {"splits": runs}
    for key in ("base", "novel", "hm"):
        mean, std = mean_std([r[key] for r in runs])
        results[key] = {"mean": mean, "std": std}
    return results


def evaluate_dataset(
    model: PathLike | EZCLIP,
    *,
    format: str,
    protocol: str = "zero-shot",
    video_root: PathLike | None = None,
    annotations: PathLike | None = None,
    splits: Sequence[int] = (1,),
    test: PathLike | Sequence[PathLike] | None = None,
    labels: PathLike | None = None,
    base_classes: PathLike | Sequence[str] | None = None,
    novel_classes: PathLike | Sequence[str] | None = None,
    descriptions: PathLike | Mapping[str, str] | None = None,
    templates: str | Sequence[str] | None = "actionclip",
    num_clips: int = 1,
    num_crops: int = 1,
    batch_size: int = 8,
    num_workers: int = 0,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    seed: int = 0,
    pretrained_backbone: bool = True,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate a model on a dataset under one of the paper's protocols (``ezclip-zoo evaluate``).

    Scores follow the reference: per class text the softmax over classes of 100 x cosine, averaged over the texts
    of a class and over the views of a clip.

    Args:
        model: a checkpoint name, zoo folder or architecture (via `ezclip_zoo.zoo.loading.load`; an architecture
            has fresh prompts/adapters from ``seed``, and ``overrides={"temporal_prompts": False}`` makes it the
            plain frame-averaged CLIP baseline), or an `EZCLIP`.
        format: ``"ucf101"``, ``"hmdb51"``, ``"kinetics"``, ``"ssv2"`` or ``"csv"``.
        protocol: ``"zero-shot"`` (default: every split among all its classes) or ``"base-to-novel"``.
        video_root: folder of the videos. annotations: ucf101/hmdb51 split-list folder.
        splits: ucf101/hmdb51 official splits to average (default ``(1,)``; the paper reports 1, 2, 3).
        test: kinetics/csv/ssv2: test annotation file(s), one split each. labels: ssv2 labels JSON.
        base_classes, novel_classes: base-to-novel class lists (names or class-list files; default: the first and
            second half of each split's classes).
        descriptions: ``{class: description}`` or a ``class,description`` CSV (default None: ``templates``).
        templates: ``"actionclip"`` (ActionCLIP's 16; default), a list of ``"{}"`` templates, or None (bare names).
        num_clips: temporal views per video (default 1). num_crops: spatial views per frame, 1 or 3 (default 1).
        batch_size: clips per forward pass (default 8). num_workers: data-loader processes (default 0).
        precision: ``"fp32"`` (default) or ``"bf16"`` autocast.
        device, dtype: where and in what dtype the model runs (default: CPU, float32 for a name; as it is for an
            `EZCLIP`).
        seed, pretrained_backbone, overrides: architectures only, as `load` takes them (defaults 0, True, None).
        progress: progress bars on stderr (default False).

    Returns:
        Zero-shot: ``{"num_splits", "splits": [...], "top1": {"mean", "std"}, "top5": {...}, "views"}``;
        base-to-novel: ``{"splits": [...], "base": {"mean", "std"}, "novel": {...}, "hm": {...}}`` (accuracies in
        percent, population std); pass it to `write_report`, `summary_line` says it in one line.
    """
    if protocol not in EVALUATION_PROTOCOLS:
        raise ValueError(f"protocol must be one of {EVALUATION_PROTOCOLS}, got {protocol!r}")
    test_splits = read_test_splits(
        format, video_root=video_root, annotations=annotations, splits=splits, test=test, labels=labels
    )
    for split in test_splits:
        if split.missing:
            logger.warning("%s: %d listed videos are not on disk (not scored)", split.name, len(split.missing))
    net = _model(
        model, device=device, dtype=dtype, seed=seed, pretrained_backbone=pretrained_backbone, overrides=overrides
    )
    common: dict[str, Any] = dict(
        descriptions=as_class_descriptions(descriptions) if descriptions is not None else None,
        templates=templates,
        num_clips=num_clips,
        num_crops=num_crops,
        batch_size=batch_size,
        num_workers=num_workers,
        precision=precision,
        progress=progress,
    )
    if protocol == "zero-shot":
        return evaluate_splits(net, test_splits, **common)
    return _base_to_novel(net, test_splits, base_classes, novel_classes, common)


def summary_line(results: Mapping[str, Any]) -> str:
    """The one line ``ezclip-zoo evaluate`` prints for `evaluate_dataset`'s results (either protocol)."""
    if "hm" in results:
        return (
            f"base {results['base']['mean']:.2f}, novel {results['novel']['mean']:.2f}, HM {results['hm']['mean']:.2f}"
        )
    return (
        f"top-1 {results['top1']['mean']:.2f} +- {results['top1']['std']:.2f}, "
        f"top-5 {results['top5']['mean']:.2f} +- {results['top5']['std']:.2f} over {len(results['splits'])} "
        "split(s)"
    )
