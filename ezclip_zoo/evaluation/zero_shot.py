"""Evaluate a model on a labelled video set: top-1/top-5 of the class scores, with unreadable videos counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset

from ..data.dataset import collate_clips
from ..inference.scoring import encode_class_texts, score_views
from ..precision import autocast_context
from .metrics import topk_correct

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["EvalResult", "evaluate"]

logger = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """Accuracy of one evaluation.

    Attributes:
        name: what was evaluated (split name).
        top1, top5: accuracy in percent over the videos that could be decoded.
        num_videos: videos scored; ``num_skipped``: videos that failed to decode (``failures`` lists them).
        num_classes: classes scored against.
        scores: [num_videos, num_classes] probabilities, ``labels`` and ``indices`` (dataset positions), kept
            when asked for (``keep_scores=True``).
        seconds: wall time.
    """

    name: str
    top1: float
    top5: float
    num_videos: int
    num_skipped: int
    num_classes: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    scores: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    indices: torch.Tensor | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (without the score matrix)."""
        return {
            "name": self.name,
            "top1": self.top1,
            "top5": self.top5,
            "num_videos": self.num_videos,
            "num_skipped": self.num_skipped,
            "num_classes": self.num_classes,
            "failures": [list(f) for f in self.failures],
            "seconds": round(self.seconds, 3),
        }


def _gather(obj: Any) -> list[Any]:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _shard(dataset: Dataset) -> Dataset:
    """This rank's share of ``dataset`` under ``torch.distributed`` (every world-size-th item), else all of it."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        size = len(cast(Sized, dataset))  # a map-style dataset has a length; torch's Dataset type does not say so
        return Subset(dataset, range(dist.get_rank(), size, dist.get_world_size()))
    return dataset


def _score_shard(
    model: EZCLIP,
    dataset: Dataset,
    text_features: torch.Tensor,
    *,
    batch_size: int,
    num_workers: int,
    precision: str,
    progress: bool = False,
) -> tuple:
    """(scores [N, C], labels [N], dataset indices [N] as numpy, failures) of this rank's clips."""
    from tqdm.auto import tqdm

    num_classes = text_features.shape[1]
    shard = _shard(dataset)
    bar = tqdm(total=len(cast(Sized, shard)), unit="video", desc="evaluating", disable=not progress, dynamic_ncols=True)
    loader = DataLoader(
        shard,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=collate_clips,
        generator=torch.Generator(),  # never draw from the global RNG (keeps resumed training exact)
    )
    scores, labels, indices, failures = [], [], [], []
    for batch in loader:
        failures += batch["failures"]
        bar.update(len(batch["failures"]) + (0 if batch["frames"] is None else len(batch["frames"])))
        if batch["frames"] is None:
            continue
        frames = batch["frames"]
        views = 1
        if frames.ndim == 6:  # [B, V, T, 3, S, S]: average over views
            views = frames.shape[1]
            frames = frames.flatten(0, 1)
        with autocast_context(model.device, precision):
            video = F.normalize(model.encode_video(frames.to(model.device)).float(), dim=-1)
        probs, _ = score_views(video.view(-1, views, video.shape[-1]), text_features, model.logit_scale)
        scores.append(probs)
        labels.append(batch["labels"])
        indices.append(batch["indices"])
    bar.close()
    return (  # numpy, not tensors: torch's object collectives mis-unpickle some tensor storages
        torch.cat(scores).numpy() if scores else torch.zeros(0, num_classes).numpy(),
        torch.cat(labels).numpy() if labels else torch.zeros(0, dtype=torch.long).numpy(),
        torch.cat(indices).numpy() if indices else torch.zeros(0, dtype=torch.long).numpy(),
        failures,
    )


def _gather_in_order(local: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list]:
    """Every rank's scores, labels and indices, in dataset order, and every failure."""
    parts = _gather(local)
    all_scores = torch.cat([torch.from_numpy(p[0]) for p in parts])
    all_labels = torch.cat([torch.from_numpy(p[1]) for p in parts])
    all_indices = torch.cat([torch.from_numpy(p[2]) for p in parts])
    order = all_indices.argsort()
    return all_scores[order], all_labels[order], all_indices[order], [f for p in parts for f in p[3]]


@torch.no_grad()
def evaluate(
    model: EZCLIP,
    dataset: Dataset,
    class_texts: Sequence[Sequence[str]],
    *,
    batch_size: int = 8,
    num_workers: int = 0,
    precision: str = "fp32",
    name: str = "",
    keep_scores: bool = False,
    text_features: torch.Tensor | None = None,
    progress: bool = False,
) -> EvalResult:
    """Classify every clip of ``dataset`` among its classes and measure top-1/top-5 accuracy.

    Scores follow the reference test protocol: for each class text (template) the softmax over classes of
    ``model.logit_scale * cos(video, text)``, averaged over the texts of a class and over the views of a clip
    (items whose ``frames`` are [V, T, 3, S, S]). Under ``torch.distributed`` each rank scores every
    world-size-th clip and all ranks return the same, complete result.

    Args:
        model: an `EZCLIP` (left in the train/eval mode it was in).
        dataset: items ``{"frames": [T, 3, S, S] or [V, T, 3, S, S], "label", "index"}``, e.g. a
            `VideoClipDataset` with ``train=False``; failed items (``"error"``) are counted, not scored.
        class_texts: per class, its texts (`ezclip_zoo.text.class_texts`).
        batch_size: clips per forward pass; num_workers: data-loader processes.
        precision: ``"fp32"`` or ``"bf16"`` (autocast).
        name: label of the result.
        keep_scores: keep the [N, C] probabilities in the result.
        text_features: precomputed `encode_class_texts` output, to skip text encoding.
        progress: a tqdm bar over this rank's videos on stderr.

    Returns:
        An `EvalResult`.
    """
    start = time.perf_counter()
    was_training = model.training
    model.eval()
    try:
        if text_features is None:
            text_features = encode_class_texts(model, class_texts, precision=precision)
        local = _score_shard(
            model,
            dataset,
            text_features,
            batch_size=batch_size,
            num_workers=num_workers,
            precision=precision,
            progress=progress,
        )
        all_scores, all_labels, all_indices, all_failures = _gather_in_order(local)
    finally:
        model.train(was_training)
    num_classes = text_features.shape[1]
    n = all_scores.shape[0]
    if n == 0:
        raise ValueError(
            f"evaluation of {name or 'dataset'}: no clip could be scored ({len(all_failures)} failed to decode"
            + (f", e.g. {all_failures[0][0]}: {all_failures[0][1]}" if all_failures else "")
            + ")"
        )
    correct = topk_correct(all_scores, all_labels, (1, 5))
    if all_failures:
        logger.warning("%s: %d videos could not be decoded and were skipped", name or "evaluation", len(all_failures))
    return EvalResult(
        name=name,
        top1=100.0 * correct[1] / n,
        top5=100.0 * correct[5] / n,
        num_videos=n,
        num_skipped=len(all_failures),
        num_classes=num_classes,
        failures=all_failures,
        seconds=time.perf_counter() - start,
        scores=all_scores if keep_scores else None,
        labels=all_labels if keep_scores else None,
        indices=all_indices if keep_scores else None,
    )
