"""From window scores to segments: when is each action happening, and when is none of them.

Softmax over the listed classes always picks one, so "no action" needs an explicit rule. `SegmentRule` combines
three, each documented in the README ("Long videos"):

* **background classes**: texts meaning "none of the actions" (``background=["nothing happening"]``) compete in
  the softmax like any class, but never form a segment;
* **a score threshold with hysteresis**: a segment of class c opens at a window where c's probability reaches
  ``min_score`` (and leads every other class by ``min_margin``), and stays open while it stays at ``keep_score``
  or above (``keep_score < min_score`` bridges dips; default: equal);
* **persistence rules**: segments of one class separated by at most ``merge_gap_s`` are merged; segments shorter than
  ``min_duration_s`` or supported by fewer than ``min_windows`` consecutive windows are dropped (a lone window
  that fires is often one straddling the boundary of another action).

Where a segment starts and ends (``extent``): ``"windows"`` (default) spans its windows, from the first one's start
to the last one's end, which is right when the model fires on windows that lie inside an action (a window
straddling a boundary mixes two things); ``"cells"`` gives each window only the stretch of time nearer its centre
than any other window's centre, so segments tile time at the stride's resolution (tighter when the model already
fires on windows that are half inside).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import torch

__all__ = ["EXTENTS", "Segment", "SegmentRule", "find_segments", "window_cells"]

EXTENTS = ("windows", "cells")


@dataclass(frozen=True)
class Segment:
    """One detected action: ``label`` from ``start`` to ``end`` (seconds); ``score`` is the mean probability of
    the class over the segment's windows."""

    label: str
    start: float
    end: float
    score: float

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``label``, ``start`` and ``end`` (seconds) and ``score``."""
        return {"label": self.label, "start": self.start, "end": self.end, "score": self.score}


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SegmentRule:
    """How window probabilities become segments (see the module docstring).

    Attributes:
        background: class names that mean "no action" (scored, never a segment).
        min_score: probability at which a segment opens, in [0, 1].
        keep_score: probability an open segment needs to continue (default: ``min_score``); at most ``min_score``.
        min_margin: lead over the best other class needed to open a segment.
        min_duration_s: shorter segments are dropped (seconds).
        merge_gap_s: segments of one class at most this far apart are merged (seconds).
        min_windows: segments found in fewer windows are dropped.
        extent: ``"windows"`` (a segment spans its windows) or ``"cells"`` (each window's stretch nearer its centre).
    """

    background: tuple[str, ...] = ()
    min_score: float = 0.5
    keep_score: float | None = None
    min_margin: float = 0.0
    min_duration_s: float = 0.0
    merge_gap_s: float = 0.0
    min_windows: int = 1
    extent: str = "windows"
    _keep: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        if isinstance(self.background, str):
            object.__setattr__(self, "background", (self.background,))
        object.__setattr__(self, "background", tuple(self.background))
        if not all(isinstance(b, str) and b.strip() for b in self.background):
            raise TypeError(f"background must be class names (non-empty strings), got {self.background!r}")
        high = _fraction("min_score", self.min_score)
        keep = high if self.keep_score is None else _fraction("keep_score", self.keep_score)
        if keep > high:
            raise ValueError(
                f"keep_score ({keep}) must not exceed min_score ({high}): it is the level an open segment may dip to"
            )
        object.__setattr__(self, "_keep", keep)
        _fraction("min_margin", self.min_margin)
        _seconds("min_duration_s", self.min_duration_s)
        _seconds("merge_gap_s", self.merge_gap_s)
        if isinstance(self.min_windows, bool) or not isinstance(self.min_windows, int) or self.min_windows < 1:
            raise ValueError(f"min_windows must be a positive int, got {self.min_windows!r}")
        if self.extent not in EXTENTS:
            raise ValueError(f"extent must be one of {EXTENTS}, got {self.extent!r}")


def window_cells(starts: Sequence[float], ends: Sequence[float], duration: float) -> list[tuple[float, float]]:
    """The stretch of time each window owns: boundaries halfway between consecutive window centres, the first
    from 0, the last to ``duration`` (seconds)."""
    centres = [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]
    bounds = [0.0] + [(a + b) / 2 for a, b in pairwise(centres)] + [max(duration, ends[-1] if ends else 0.0)]
    return list(pairwise(bounds))


def _runs(
    probs: torch.Tensor, top2: tuple[torch.Tensor, torch.Tensor] | None, c: int, rule: SegmentRule
) -> list[tuple[int, int]]:
    """Window index ranges [i, j] where class ``c``'s segments are open (hysteresis); ``top2``: every window's two
    best (values, indices), computed once for all classes (None with a single class)."""
    p = probs[:, c].tolist()
    if top2 is not None:
        values, indices = top2
        best_other = torch.where(indices[:, 0] == c, values[:, 1], values[:, 0])  # the best class but c
        lead = (probs[:, c] - best_other).tolist()
    else:
        lead = [1.0] * len(p)
    runs, open_at = [], None
    for w, (pw, lw) in enumerate(zip(p, lead, strict=True)):
        if open_at is None:
            if pw >= rule.min_score and lw >= rule.min_margin:
                open_at = w
        elif pw < rule._keep:
            runs.append((open_at, w - 1))
            open_at = None
    if open_at is not None:
        runs.append((open_at, len(p) - 1))
    return runs


def find_segments(
    spans: Sequence[tuple[float, float]],
    probs: torch.Tensor,
    class_names: Sequence[str],
    rule: SegmentRule,
    duration: float | None = None,
) -> list[Segment]:
    """Segments of every non-background class, sorted by start time.

    Args:
        spans: (start, end) seconds of the W windows, in time order.
        probs: [W, C] class probabilities per window.
        class_names: C names (background ones included).
        rule: `SegmentRule`.
        duration: the video's length in seconds (where the last cell ends; default: the last window's end).
    """
    if probs.ndim != 2 or probs.shape != (len(spans), len(class_names)):
        raise ValueError(f"probs must be [windows={len(spans)}, classes={len(class_names)}], got {tuple(probs.shape)}")
    unknown = [b for b in rule.background if b not in class_names]
    if unknown:
        raise ValueError(f"background classes {unknown} are not among the classes scored {list(class_names)}")
    if rule.extent == "cells":
        spans = window_cells(
            [a for a, _ in spans],
            [b for _, b in spans],
            duration if duration is not None else (spans[-1][1] if spans else 0.0),
        )
    segments = []
    top2: tuple[torch.Tensor, torch.Tensor] | None = None
    if probs.shape[1] > 1:
        best = probs.topk(2, dim=1)
        top2 = (best.values, best.indices)
    for c, name in enumerate(class_names):
        if name in rule.background:
            continue
        merged: list[list[int]] = []
        for i, j in _runs(probs, top2, c, rule):
            if merged and spans[i][0] - spans[merged[-1][1]][1] <= rule.merge_gap_s:
                merged[-1][1] = j
            else:
                merged.append([i, j])
        for i, j in merged:
            start, end = spans[i][0], spans[j][1]
            if end - start + 1e-9 >= rule.min_duration_s and j - i + 1 >= rule.min_windows:
                score = float(probs[i : j + 1, c].mean())
                segments.append(Segment(label=name, start=start, end=end, score=score))
    return sorted(segments, key=lambda s: (s.start, s.label))
