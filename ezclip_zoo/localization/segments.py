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

__all__ = [
    "EXTENTS",
    "Segment",
    "SegmentEvent",
    "SegmentRule",
    "SegmentTracker",
    "check_sigmoid_rule",
    "find_segments",
    "window_cells",
]

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


def check_sigmoid_rule(rule: SegmentRule) -> None:
    """Refuse the options of ``rule`` that assume a softmax, for presence (sigmoid) scores: there "no action" is no
    class reaching ``min_score``, and classes do not compete, so neither background texts nor a margin over the
    runner-up mean anything."""
    if rule.background:
        raise ValueError(
            "with scores='sigmoid', 'no action' is a window where no class reaches min_score: drop the background "
            f"texts {list(rule.background)}"
        )
    if rule.min_margin:
        raise ValueError(
            "min_margin is a lead over the runner-up of a softmax; presence probabilities are each class's own, so "
            "it is undefined with scores='sigmoid': set min_score (and keep_score) instead"
        )


def window_cells(starts: Sequence[float], ends: Sequence[float], duration: float) -> list[tuple[float, float]]:
    """The stretch of time each window owns: boundaries halfway between consecutive window centres, the first
    from 0, the last to ``duration`` (seconds)."""
    centres = [(a + b) / 2 for a, b in zip(starts, ends, strict=True)]
    bounds = [0.0] + [(a + b) / 2 for a, b in pairwise(centres)] + [max(duration, ends[-1] if ends else 0.0)]
    return list(pairwise(bounds))


@dataclass(frozen=True)
class SegmentEvent:
    """A segment decided by `SegmentTracker`: ``"opened"`` once it is certain to be kept, ``"closed"`` once it is
    final. An event is never taken back: every ``"opened"`` is followed by one ``"closed"`` of the same label and
    start (at the latest when the tracker is flushed).

    Attributes:
        kind: ``"opened"`` or ``"closed"``.
        label: the class.
        start: where the segment starts, seconds (stream or video time).
        end: where it ends, seconds (``"closed"`` only; None for ``"opened"``).
        score: the mean probability of the class over its windows (``"closed"`` only).
        decided_at: the end (seconds) of the last window the tracker had been given when it decided; the lag of
            the event is ``decided_at - start`` (opened) or ``decided_at - end`` (closed).
        first_window, last_window: indices of the windows pushed (0-based) that the segment spans; for
            ``"opened"``, ``last_window`` is the window that confirmed it.
    """

    kind: str
    label: str
    start: float
    end: float | None
    score: float | None
    decided_at: float
    first_window: int
    last_window: int

    @property
    def segment(self) -> Segment | None:
        """The closed `Segment` (None for an ``"opened"`` event)."""
        if self.end is None or self.score is None:
            return None
        return Segment(label=self.label, start=self.start, end=self.end, score=self.score)

    def to_dict(self) -> dict:
        """A JSON-ready dict: ``event`` (opened/closed), ``label``, ``start``, ``end`` and ``score`` (closed only),
        ``decided_at`` (seconds)."""
        out: dict = {"event": self.kind, "label": self.label, "start": self.start}
        if self.kind == "closed":
            out.update(end=self.end, score=self.score)
        out["decided_at"] = self.decided_at
        return out


@dataclass
class _Group:
    """A segment in the making for one class: runs merged so far (window indices ``first``..``last``)."""

    first: int
    start: float
    last: int
    end: float
    total: float  # sum of the class's probability over first..last
    running: bool  # the hysteresis run is open at the last window
    confirmed: bool = False
    gap_total: float = 0.0  # probabilities of the windows after ``last`` while waiting for a merge
    gap_count: int = 0


class SegmentTracker:
    """The segment rule fed one window at a time: `push` each scored window, `flush` at the end.

    Feeding every window of a video and flushing gives exactly `find_segments`' segments (which runs this
    machine); each decision is made as soon as the windows seen make it certain, so an event is never taken back.
    What a rule must wait for: ``min_windows`` (the window that makes the count), ``min_duration_s`` (a window
    ending that far after the start), ``merge_gap_s`` (a window starting more than that after the segment's end;
    with overlapping windows, a window wholly after it), ``extent="cells"`` (the next window: a cell ends halfway
    to the next window's centre).

    Args:
        class_names: the C classes of each pushed row (background ones included).
        rule: `SegmentRule`.

    ``tracker.segments`` holds the closed segments so far, in the order they closed.
    """

    def __init__(self, class_names: Sequence[str], rule: SegmentRule) -> None:
        unknown = [b for b in rule.background if b not in class_names]
        if unknown:
            raise ValueError(f"background classes {unknown} are not among the classes scored {list(class_names)}")
        if not class_names:
            raise ValueError("a segment tracker needs at least one class")
        self.class_names, self.rule = list(class_names), rule
        self._tracked = [c for c, name in enumerate(self.class_names) if name not in rule.background]
        self._groups: dict[int, _Group] = {}
        self._pending: tuple[float, float, list[float], list[float]] | None = None  # cells: a window awaiting its end
        self._last_centre: float | None = None
        self._cell_start = 0.0
        self._last_end = self._decided_at = 0.0
        self._count = 0
        self._flushed = False
        self.segments: list[Segment] = []

    @property
    def windows(self) -> int:
        """How many windows have been pushed."""
        return self._count

    def push(self, start: float, end: float, probabilities: torch.Tensor | Sequence[float]) -> list[SegmentEvent]:
        """Add the next window (``start``/``end`` seconds, its [C] probabilities); returns the events it decides."""
        if self._flushed:
            raise RuntimeError("this SegmentTracker was flushed; make a new one for another stream")
        row = torch.as_tensor(probabilities, dtype=torch.float32).reshape(-1)
        if row.numel() != len(self.class_names):
            raise ValueError(f"expected {len(self.class_names)} probabilities (one per class), got {row.numel()}")
        values, leads = row.tolist(), self._leads(row)
        self._last_end = max(self._last_end, float(end))
        if self.rule.extent != "cells":
            return self._step((float(start), float(end)), values, leads)
        centre = (float(start) + float(end)) / 2
        events: list[SegmentEvent] = []
        if self._pending is not None and self._last_centre is not None:
            bound = (self._last_centre + centre) / 2
            events = self._step((self._cell_start, bound), self._pending[2], self._pending[3])
            self._cell_start = bound
        self._pending, self._last_centre = (float(start), float(end), values, leads), centre
        return events

    def flush(self, duration: float | None = None) -> list[SegmentEvent]:
        """Close everything still open (the stream ended): returns the last events. ``duration`` (seconds) is where
        the last cell ends with ``extent="cells"`` (default: the last window's end)."""
        if self._flushed:
            return []
        events: list[SegmentEvent] = []
        if self._pending is not None:
            last_bound = max(duration if duration is not None else self._pending[1], self._pending[1])
            events = self._step((self._cell_start, last_bound), self._pending[2], self._pending[3])
            self._pending = None
        self._flushed = True
        for c in self._tracked:
            group = self._groups.pop(c, None)
            if group is not None:
                events += self._finish(c, group)
        return events

    def _leads(self, row: torch.Tensor) -> list[float]:
        """Each class's lead over the best other class, in float32 as `find_segments` always computed it."""
        if row.numel() < 2:
            return [1.0] * row.numel()
        best = row.topk(2)
        others = torch.where(torch.arange(row.numel()) == best.indices[0], best.values[1], best.values[0])
        return (row - others).tolist()

    def _step(self, span: tuple[float, float], values: list[float], leads: list[float]) -> list[SegmentEvent]:
        """One window with its final span (its own, or its cell)."""
        w, self._count = self._count, self._count + 1
        self._decided_at = self._last_end
        events: list[SegmentEvent] = []
        for c in self._tracked:
            events += self._class_step(c, w, span, values[c], leads[c])
        return events

    def _class_step(self, c: int, w: int, span: tuple[float, float], p: float, lead: float) -> list[SegmentEvent]:
        rule, group, events, ended = self.rule, self._groups.get(c), [], False
        if group is not None and group.running:
            if p >= rule._keep:
                group.last, group.end, group.total = w, span[1], group.total + p
                return self._confirm(c, group)
            group.running, ended = False, True  # the run ended at the previous window: wait for one to merge with
        opens = not ended and p >= rule.min_score and lead >= rule.min_margin  # never where a run just ended
        if group is not None and not group.running:
            if opens and span[0] - group.end <= rule.merge_gap_s:  # merged: the windows between count too
                group.total += group.gap_total + p
                group.last, group.end, group.running = w, span[1], True
                group.gap_total, group.gap_count = 0.0, 0
                return self._confirm(c, group)
            if opens or span[0] - group.end > rule.merge_gap_s:  # no later run can merge: final
                del self._groups[c]
                events += self._finish(c, group)
                group = None
            else:
                group.gap_total, group.gap_count = group.gap_total + p, group.gap_count + 1
        if opens and group is None:
            group = _Group(first=w, start=span[0], last=w, end=span[1], total=p, running=True)
            self._groups[c] = group
            events += self._confirm(c, group)
        return events

    def _kept(self, group: _Group) -> bool:
        rule = self.rule
        return (
            group.end - group.start + 1e-9 >= rule.min_duration_s and group.last - group.first + 1 >= rule.min_windows
        )

    def _confirm(self, c: int, group: _Group) -> list[SegmentEvent]:
        if group.confirmed or not self._kept(group):
            return []
        group.confirmed = True
        label = self.class_names[c]
        return [SegmentEvent("opened", label, group.start, None, None, self._decided_at, group.first, group.last)]

    def _finish(self, c: int, group: _Group) -> list[SegmentEvent]:
        if not group.confirmed:
            return []
        score = group.total / (group.last - group.first + 1)
        self.segments.append(Segment(self.class_names[c], group.start, group.end, score))
        decided = self._last_end if self._flushed else self._decided_at
        return [
            SegmentEvent("closed", self.class_names[c], group.start, group.end, score, decided, group.first, group.last)
        ]


def find_segments(
    spans: Sequence[tuple[float, float]],
    probs: torch.Tensor,
    class_names: Sequence[str],
    rule: SegmentRule,
    duration: float | None = None,
) -> list[Segment]:
    """Segments of every non-background class, sorted by start time: every window through a `SegmentTracker`,
    then flushed.

    Args:
        spans: (start, end) seconds of the W windows, in time order.
        probs: [W, C] class probabilities per window.
        class_names: C names (background ones included).
        rule: `SegmentRule`.
        duration: the video's length in seconds (where the last cell ends; default: the last window's end).
    """
    if probs.ndim != 2 or probs.shape != (len(spans), len(class_names)):
        raise ValueError(f"probs must be [windows={len(spans)}, classes={len(class_names)}], got {tuple(probs.shape)}")
    tracker = SegmentTracker(class_names, rule)
    events: list[SegmentEvent] = []
    for (start, end), row in zip(spans, probs, strict=True):
        events += tracker.push(start, end, row)
    events += tracker.flush(duration)
    segments = []
    for event in events:
        if event.kind == "closed" and event.end is not None:
            c = tracker.class_names.index(event.label)  # the mean as one float32 reduction, as it always was
            score = float(probs[event.first_window : event.last_window + 1, c].mean())
            segments.append(Segment(label=event.label, start=event.start, end=event.end, score=score))
    return sorted(segments, key=lambda s: (s.start, s.label))
