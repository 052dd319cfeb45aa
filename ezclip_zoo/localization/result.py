"""What `localize` returns: per-window class probabilities and the segments found in them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .segments import Segment, SegmentRule, check_sigmoid_rule, find_segments, window_cells

__all__ = ["Window", "LocalizationResult"]


@dataclass(frozen=True)
class Window:
    """One scored window: ``start`` / ``end`` in seconds (its first sampled frame's timestamp; its last sampled
    frame's timestamp plus that frame's duration) and the frame indices it sampled."""

    start: float
    end: float
    frame_indices: tuple[int, ...]


@dataclass
class LocalizationResult:
    """Temporal localisation of actions in one video.

    Attributes:
        source: the video's name.
        class_names: the C classes scored (background classes included, last).
        windows: the W windows, in time order.
        probabilities: [W, C] float32: each window's softmax over the classes (``scores="softmax"``), or each
            class's own presence probability (``scores="sigmoid"``, SigLIP-family backbones), which do not sum to 1.
        segments: detected actions, sorted by start (`Segment`: label, start, end, score).
        rule: the `SegmentRule` that made them (`resegment` applies another without re-running the model).
        duration: seconds from the first frame to the end of the last.
        text: what the class texts were (names, descriptions, templates).
        notes: what differed from the request (e.g. a video shorter than one window).
        scores: what ``probabilities`` are: ``"softmax"`` or ``"sigmoid"``.
    """

    source: str
    class_names: list[str]
    windows: list[Window]
    probabilities: torch.Tensor
    segments: list[Segment]
    rule: SegmentRule
    duration: float
    text: str = ""
    notes: list[str] = field(default_factory=list)
    scores: str = "softmax"

    @property
    def spans(self) -> list[tuple[float, float]]:
        """(start, end) seconds of every window."""
        return [(w.start, w.end) for w in self.windows]

    @property
    def cells(self) -> list[tuple[float, float]]:
        """The stretch of time (seconds) nearer each window's centre than any other's (see `window_cells`)."""
        return window_cells([w.start for w in self.windows], [w.end for w in self.windows], self.duration)

    def resegment(self, rule: SegmentRule | None = None, **changes: Any) -> LocalizationResult:
        """The same windows with segments found by another rule: ``result.resegment(min_score=0.3)``."""
        new_rule = rule if rule is not None else replace(self.rule, **changes)
        if self.scores == "sigmoid":
            check_sigmoid_rule(new_rule)
        segments = find_segments(self.spans, self.probabilities, self.class_names, new_rule, self.duration)
        return replace(self, rule=new_rule, segments=segments)

    def label_at(self, t: float) -> str | None:
        """The action at time ``t`` seconds: the highest-scoring segment covering it, or None (no action)."""
        covering = [s for s in self.segments if s.start <= t < s.end]
        return max(covering, key=lambda s: s.score).label if covering else None

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "duration", "classes", "background", "windows": [{"start", "end", "frame_indices",
        "probabilities": {class: p}}], "segments": [{"label", "start", "end", "score"}], "text", "scores",
        "notes"}``."""
        probs = self.probabilities.tolist()
        return {
            "source": self.source,
            "duration": self.duration,
            "classes": list(self.class_names),
            "background": list(self.rule.background),
            "windows": [
                {
                    "start": w.start,
                    "end": w.end,
                    "frame_indices": list(w.frame_indices),
                    "probabilities": dict(zip(self.class_names, row, strict=True)),
                }
                for w, row in zip(self.windows, probs, strict=True)
            ],
            "segments": [s.to_dict() for s in self.segments],
            "text": self.text,
            "scores": self.scores,
            "notes": list(self.notes),
        }

    def segments_csv(self) -> str:
        """The segments as CSV: ``label,start,end,score`` (seconds), one row per segment."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["label", "start", "end", "score"])
        for s in self.segments:
            writer.writerow([s.label, f"{s.start:.3f}", f"{s.end:.3f}", f"{s.score:.4f}"])
        return out.getvalue()

    def windows_csv(self) -> str:
        """The windows as CSV: ``start,end`` then one probability column per class."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["start", "end", *self.class_names])
        for w, row in zip(self.windows, self.probabilities.tolist(), strict=True):
            writer.writerow([f"{w.start:.3f}", f"{w.end:.3f}", *(f"{p:.4f}" for p in row)])
        return out.getvalue()

    def __str__(self) -> str:
        head = f"{self.source}: {len(self.segments)} segment(s) in {self.duration:.1f} s ({len(self.windows)} windows)"
        lines = [head] + [f"  {_clock(s.start)} - {_clock(s.end)}  {s.label}  {s.score:.2f}" for s in self.segments]
        return "\n".join(lines)


def _clock(seconds: float) -> str:
    minutes, sec = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{sec:04.1f}" if hours else f"{minutes:02d}:{sec:04.1f}"
