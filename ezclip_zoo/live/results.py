"""What `watch` yields and reports: a scored window (`WindowResult`), segment events (the localisation layer's
`SegmentEvent`), and at the end a `WatchSummary` (windows scored and skipped, latency median and p95)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["WindowResult", "GapEvent", "WatchSummary", "LatencyStats"]


@dataclass(frozen=True)
class WindowResult:
    """One scored window of a live stream.

    Attributes:
        index: the window's number on the stride grid (window k starts at ``k * stride_s``); -1 for the window
            aligned to the end of a stream that ended.
        start, end: stream seconds (its first sampled frame's time; its last sampled frame's time plus that
            frame's duration), as `localize`'s windows.
        frame_indices: the T sampled frames' numbers since the stream started.
        class_names: the C classes (background ones included, last).
        probabilities: [C] float32, the softmax over the classes.
        latency_s: wall-clock seconds from the arrival of the frame that completed the window (the first frame
            after its last sampled instant) to this result.
        skipped: windows that completed while the model was busy and were never scored, just before this one.
    """

    index: int
    start: float
    end: float
    frame_indices: tuple[int, ...]
    class_names: tuple[str, ...]
    probabilities: torch.Tensor
    latency_s: float
    skipped: int = 0

    @property
    def kind(self) -> str:
        """``"window"`` (segment events have ``"opened"`` / ``"closed"``)."""
        return "window"

    @property
    def top(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        best = int(self.probabilities.argmax())
        return self.class_names[best], float(self.probabilities[best])

    def to_dict(self) -> dict[str, Any]:
        """``{"event": "window", "start", "end", "frame_indices", "probabilities": {class: p}, "latency_s"}``: a
        window of ``localize --json`` plus its latency."""
        return {
            "event": "window",
            "start": self.start,
            "end": self.end,
            "frame_indices": list(self.frame_indices),
            "probabilities": dict(zip(self.class_names, self.probabilities.tolist(), strict=True)),
            "latency_s": self.latency_s,
        }


@dataclass(frozen=True)
class GapEvent:
    """An outage the stream came back from: the source dropped or stalled (no frame for
    ``ReconnectPolicy.stall_s``), was reconnected, and frames flowed again. One per outage, however many
    reconnection attempts it took, yielded when the first frame after it arrives (an outage the stream never comes
    back from is its end, not a gap). The segments open when the source was lost were closed then, at the last
    window before the gap; windows that would straddle the gap are never scored.

    Attributes:
        start: stream seconds where the gap starts (the end of the last frame before it).
        end: stream seconds of the first frame after it (stream time goes on by the wall-clock time that passed
            when the timestamps restarted, so ``end >= start``).
        duration_s: wall-clock seconds between the source being lost and the first frame after.
        closed: how many segments the gap closed.
    """

    start: float
    end: float
    duration_s: float
    closed: int = 0

    @property
    def kind(self) -> str:
        """``"gap"``."""
        return "gap"

    def to_dict(self) -> dict[str, Any]:
        """``{"event": "gap", "start", "end", "duration_s", "closed"}`` (seconds; ``closed``: segments closed)."""
        return {
            "event": "gap",
            "start": self.start,
            "end": self.end,
            "duration_s": self.duration_s,
            "closed": self.closed,
        }


class LatencyStats:
    """Latencies (seconds) in bounded memory: every value up to ``capacity``, then a uniform sample of them
    (reservoir sampling, seeded) for the quantiles; count, maximum and mean stay exact."""

    def __init__(self, capacity: int = 100_000, seed: int = 0) -> None:
        self.capacity, self.count, self.maximum, self.total = capacity, 0, 0.0, 0.0
        self._sample: list[float] = []
        self._random = random.Random(seed)

    def add(self, value: float) -> None:
        """Record one latency."""
        self.count += 1
        self.maximum, self.total = max(self.maximum, value), self.total + value
        if len(self._sample) < self.capacity:
            self._sample.append(value)
        else:
            slot = self._random.randrange(self.count)
            if slot < self.capacity:
                self._sample[slot] = value

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1, nearest rank), or None before any value."""
        if not self._sample:
            return None
        ordered = sorted(self._sample)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class WatchSummary:
    """How a `watch` went.

    Attributes:
        source: the source's name.
        windows: windows scored.
        skipped: windows that completed while the model was busy and were never scored (never queued).
        latency_median_s, latency_p95_s, latency_max_s: window latency, seconds (None before any window).
        segments: segments closed.
        stream_s: stream seconds seen (the newest frame's time).
        frames: frames received.
        restarts: times the stream's timestamps restarted (reconnects, resets).
        gaps: outages the stream came back from (`GapEvent`s).
        gap_s: wall-clock seconds spent in them.
        error: why the source ended early, if it did (a message), else None.
    """

    source: str
    windows: int = 0
    skipped: int = 0
    latency_median_s: float | None = None
    latency_p95_s: float | None = None
    latency_max_s: float | None = None
    segments: int = 0
    stream_s: float = 0.0
    frames: int = 0
    restarts: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped_share(self) -> float:
        """Skipped windows over all windows that completed (0-1)."""
        total = self.windows + self.skipped
        return self.skipped / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """``{"event": "summary", "source", "windows", "skipped", "skipped_share", "latency_s": {"median",
        "p95", "max"}, "segments", "stream_s", "frames", "restarts", "gaps", "gap_s", "error"}`` and the ``extra``
        keys."""
        return {
            "event": "summary",
            "source": self.source,
            "windows": self.windows,
            "skipped": self.skipped,
            "skipped_share": self.skipped_share,
            "latency_s": {"median": self.latency_median_s, "p95": self.latency_p95_s, "max": self.latency_max_s},
            "segments": self.segments,
            "stream_s": self.stream_s,
            "frames": self.frames,
            "restarts": self.restarts,
            "gaps": self.gaps,
            "gap_s": self.gap_s,
            "error": self.error,
            **self.extra,
        }

    def __str__(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        gaps = f", {self.gaps} gap(s) ({self.gap_s:.1f} s)" if self.gaps else ""
        return (
            f"{self.source}: {self.windows} windows scored, {self.skipped} skipped ({self.skipped_share:.0%}), "
            f"latency median {ms(self.latency_median_s)}, p95 {ms(self.latency_p95_s)}; {self.segments} segment(s) "
            f"in {self.stream_s:.1f} s of stream{gaps}"
        )
