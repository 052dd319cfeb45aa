"""The paper's evaluation protocols over `VideoSplit`s: zero-shot over several splits (mean +- std) and
base-to-novel (base, novel, harmonic mean). Few-shot training sets come from `ezclip_zoo.data.sample_k_shot`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..data.dataset import VideoClipDataset
from ..data.records import VideoSplit
from ..text.labels import class_texts
from ..text.templates import ACTIONCLIP_TEMPLATES
from ..transforms.eval import VideoTransform
from .metrics import harmonic_mean, mean_std
from .zero_shot import EvalResult, evaluate

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["summarize_splits", "evaluate_splits", "evaluate_base_to_novel", "base_to_novel_summary"]


def summarize_splits(results: Sequence[EvalResult]) -> dict[str, Any]:
    """``{"splits": [...], "top1": {"mean", "std"}, "top5": {...}, "num_splits"}`` (population std)."""
    if not results:
        raise ValueError("no results to summarise")
    out: dict[str, Any] = {"num_splits": len(results), "splits": [r.to_dict() for r in results]}
    for metric in ("top1", "top5"):
        mean, std = mean_std([getattr(r, metric) for r in results])
        out[metric] = {"mean": mean, "std": std}
    return out


def _dataset(model: EZCLIP, split: VideoSplit, num_clips: int, num_crops: int) -> VideoClipDataset:
    transform = VideoTransform.from_model(model, protocol="reference", num_crops=num_crops)  # the paper's protocol
    return VideoClipDataset(
        split, model.num_frames, model.image_size, train=False, num_clips=num_clips, transform=transform
    )


def evaluate_splits(
    model: EZCLIP,
    splits: Sequence[VideoSplit],
    *,
    descriptions: Mapping[str, str] | None = None,
    templates: Sequence[str] | None = ACTIONCLIP_TEMPLATES,
    num_clips: int = 1,
    num_crops: int = 1,
    batch_size: int = 8,
    num_workers: int = 0,
    precision: str = "fp32",
    progress: bool = False,
) -> dict[str, Any]:
    """Zero-shot accuracy on each split and their mean +- std (UCF-101 and HMDB-51 report over 3 splits).

    The reference protocol is one view (``num_clips=1, num_crops=1``: segment centres, resize, centre crop);
    more views average the class probabilities.
    """
    results = []
    for split in splits:
        texts = class_texts(split.classes, descriptions=descriptions, templates=templates)
        dataset = _dataset(model, split, num_clips, num_crops)
        results.append(
            evaluate(
                model,
                dataset,
                texts,
                batch_size=batch_size,
                num_workers=num_workers,
                precision=precision,
                name=split.name,
                progress=progress,
            )
        )
    summary = summarize_splits(results)
    summary["views"] = {"clips": num_clips, "crops": num_crops}
    return summary


def base_to_novel_summary(base: EvalResult, novel: EvalResult) -> dict[str, Any]:
    """``{"base": top-1, "novel": top-1, "hm": harmonic mean, "details": {...}}``."""
    return {
        "base": base.top1,
        "novel": novel.top1,
        "hm": harmonic_mean(base.top1, novel.top1),
        "details": {"base": base.to_dict(), "novel": novel.to_dict()},
    }


def evaluate_base_to_novel(
    model: EZCLIP,
    test_split: VideoSplit,
    base_classes: Sequence[str],
    novel_classes: Sequence[str],
    *,
    descriptions: Mapping[str, str] | None = None,
    templates: Sequence[str] | None = ACTIONCLIP_TEMPLATES,
    num_clips: int = 1,
    num_crops: int = 1,
    batch_size: int = 8,
    num_workers: int = 0,
    precision: str = "fp32",
    progress: bool = False,
) -> dict[str, Any]:
    """Base-to-novel generalisation (ViFi-CLIP protocol): test videos of the base classes scored among the base
    classes only, those of the novel classes among the novel classes only, and the harmonic mean of the two."""
    overlap = sorted(set(base_classes) & set(novel_classes))
    if overlap:
        raise ValueError(f"base and novel classes overlap: {overlap[:10]}")
    results = {}
    for kind, names in (("base", base_classes), ("novel", novel_classes)):
        split = test_split.restrict_classes(list(names), name=f"{test_split.name}/{kind}")
        texts = class_texts(split.classes, descriptions=descriptions, templates=templates)
        results[kind] = evaluate(
            model,
            _dataset(model, split, num_clips, num_crops),
            texts,
            batch_size=batch_size,
            num_workers=num_workers,
            precision=precision,
            name=split.name,
            progress=progress,
        )
    summary = base_to_novel_summary(results["base"], results["novel"])
    summary["views"] = {"clips": num_clips, "crops": num_crops}
    return summary
