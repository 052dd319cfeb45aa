"""Temporal action detection metrics: temporal IoU, segment mAP at tIoU thresholds (the THUMOS14 protocol), frame
accuracy, and false positives on background (where none of the classes happens).

Predictions and truths are anything with ``label``, ``start`` and ``end`` (seconds); predictions also ``score``
(`ezclip_zoo.localization.Segment`, `ezclip_zoo.synthetic.TruthSegment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "temporal_iou",
    "average_precision",
    "segment_map",
    "frame_accuracy",
    "background_false_positives",
    "DetectionReport",
    "detection_report",
]


def temporal_iou(a: Any, b: Any) -> float:
    """Intersection over union of two time intervals (objects with ``start`` / ``end``, seconds)."""
    inter = max(0.0, min(a.end, b.end) - max(a.start, b.start))
    union = max(a.end, b.end) - min(a.start, b.start)
    return inter / union if union > 0 else 0.0


def average_precision(hits: Sequence[tuple[float, bool]], num_truth: int) -> float:
    """Area under the interpolated precision-recall curve (all points, as THUMOS14 / ActivityNet compute it).

    Args:
        hits: (score, is a true positive) per prediction.
        num_truth: truth segments of the class (0: AP is undefined; returns 0.0).
    """
    if num_truth == 0:
        return 0.0
    ranked = sorted(hits, key=lambda h: -h[0])
    tp = fp = 0
    precisions, recalls = [], []
    for _, hit in ranked:
        tp, fp = tp + hit, fp + (not hit)
        precisions.append(tp / (tp + fp))
        recalls.append(tp / num_truth)
    for i in range(len(precisions) - 2, -1, -1):  # the precision envelope
        precisions[i] = max(precisions[i], precisions[i + 1])
    ap, prev_recall = 0.0, 0.0
    for p, r in zip(precisions, recalls, strict=True):
        ap += p * (r - prev_recall)
        prev_recall = r
    return ap


def _match(predictions: Sequence[Any], truths: Sequence[Any], tiou: float) -> list[tuple[float, bool]]:
    """Greedy matching in score order: a prediction is a hit when it overlaps an unmatched truth at >= tiou."""
    used = [False] * len(truths)
    hits = []
    for p in sorted(predictions, key=lambda s: -s.score):
        best, best_iou = None, tiou
        for k, t in enumerate(truths):
            iou = temporal_iou(p, t)
            if not used[k] and iou >= best_iou:
                best, best_iou = k, iou
        if best is not None:
            used[best] = True
        hits.append((p.score, best is not None))
    return hits


def segment_map(predictions: Sequence[Sequence[Any]], truths: Sequence[Sequence[Any]], tiou: float) -> float:
    """Mean over classes (those with a truth segment) of the AP at temporal IoU ``tiou``.

    Args:
        predictions, truths: per video, its predicted / true segments (matched only within a video).
        tiou: the overlap a prediction needs to count, e.g. 0.3, 0.5, 0.7.
    """
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} videos of predictions but {len(truths)} of truth")
    classes = sorted({t.label for video in truths for t in video})
    aps = []
    for c in classes:
        hits, count = [], 0
        for preds, trues in zip(predictions, truths, strict=True):
            mine = [t for t in trues if t.label == c]
            count += len(mine)
            hits += _match([p for p in preds if p.label == c], mine, tiou)
        aps.append(average_precision(hits, count))
    return sum(aps) / len(aps) if aps else 0.0


def frame_accuracy(predicted: Sequence[str | None], truth: Sequence[str | None]) -> float:
    """Percent of frames whose predicted label (None: no action) equals the true one."""
    if len(predicted) != len(truth) or not truth:
        raise ValueError(f"frame labels differ in length ({len(predicted)} vs {len(truth)}) or are empty")
    return 100.0 * sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(truth)


def background_false_positives(predictions: Sequence[Any], truths: Sequence[Any]) -> tuple[int, float]:
    """(predicted segments that overlap no truth segment, seconds of predicted action outside every truth)."""
    count = sum(1 for p in predictions if all(temporal_iou(p, t) == 0.0 for t in truths))
    seconds = 0.0
    for p in predictions:
        inside = sum(max(0.0, min(p.end, t.end) - max(p.start, t.start)) for t in truths)
        seconds += max(0.0, (p.end - p.start) - inside)
    return count, seconds


@dataclass(frozen=True)
class DetectionReport:
    """Localisation quality over a set of videos.

    Attributes:
        frame_accuracy: percent of frames labelled right (no action included).
        map: tIoU threshold -> segment mAP in percent.
        false_positives: predicted segments lying wholly on background; fp_seconds: their total length.
        videos: how many videos; truth_segments: how many true actions.
    """

    frame_accuracy: float
    map: dict[float, float]
    false_positives: int
    fp_seconds: float
    videos: int
    truth_segments: int


def detection_report(
    predictions: Sequence[Sequence[Any]],
    truths: Sequence[Sequence[Any]],
    frame_predictions: Sequence[Sequence[str | None]],
    frame_truths: Sequence[Sequence[str | None]],
    thresholds: Sequence[float] = (0.3, 0.5, 0.7),
) -> DetectionReport:
    """`DetectionReport` of per-video predicted segments against the truth, and per-frame labels."""
    flat_pred = [label for video in frame_predictions for label in video]
    flat_true = [label for video in frame_truths for label in video]
    fps = [background_false_positives(p, t) for p, t in zip(predictions, truths, strict=True)]
    return DetectionReport(
        frame_accuracy=frame_accuracy(flat_pred, flat_true),
        map={t: 100.0 * segment_map(predictions, truths, t) for t in thresholds},
        false_positives=sum(c for c, _ in fps),
        fp_seconds=sum(s for _, s in fps),
        videos=len(truths),
        truth_segments=sum(len(t) for t in truths),
    )
