"""The live tab's scoring, without Gradio: webcam frames pushed as they arrive, scored as `watch` scores a stream.

A `LiveSession` is one browser stream. Each frame is stamped with its arrival (stream time: seconds since the
session's first frame) and kept only while a window still to be scored may sample it (the ring buffer of `watch`,
so memory stays flat however long the stream runs). Each time a window of ``window_s`` closes on the grid of
``stride_s``, the newest complete one is scored by `WindowScorer` (the class texts encoded once, the same T
instants, transform and scoring as `watch`) and fed to the segment rule (`SegmentTracker`); the last
``max_events`` segment events are kept for the page.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..inference.options import make_options
from ..live.capture import FrameRing, LiveFrame
from ..live.grid import WindowGrid
from ..live.results import WindowResult
from ..live.watcher import WindowScorer
from ..localization.segments import SegmentEvent, SegmentRule, SegmentTracker
from ..localization.windows import check_seconds

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["LiveSession", "MAX_EVENTS"]

MAX_EVENTS = 20  # segment events a session keeps for the page (the newest)


class LiveSession:
    """One live stream of frames scored window by window, as `watch` scores a source.

    Args:
        model: an `EZCLIP` (shared; a session holds no copy).
        classes: the C class names (as `classify` takes them).
        window_s, stride_s: window length and the seconds between window starts (stream time).
        min_score: the segment rule's threshold (`SegmentRule`; its other settings are `watch`'s defaults).
        max_events: how many segment events ``events`` keeps (the newest).
        clock: where arrival times come from when `push` is given none (``time.monotonic``).

    ``latest`` is the last scored `WindowResult`; ``events`` the last segment events, oldest first; ``scored`` and
    ``skipped`` count the windows scored and those passed over (several closed between two frames).
    """

    def __init__(
        self,
        model: EZCLIP,
        classes: Sequence[str],
        *,
        window_s: float = 2.0,
        stride_s: float = 0.5,
        min_score: float = 0.5,
        max_events: int = MAX_EVENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grid = WindowGrid(
            check_seconds("window_s", window_s), check_seconds("stride_s", stride_s), model.num_frames
        )
        self.rule = SegmentRule(min_score=min_score)
        self.scorer = WindowScorer(model, list(classes), self.rule, make_options(None, {}), {})
        self.tracker = SegmentTracker(self.scorer.class_names, self.rule)
        self.ring = FrameRing(self.grid)
        self.events: deque[SegmentEvent] = deque(maxlen=max_events)
        self.latest: WindowResult | None = None
        self.scored = self.skipped = 0
        self._clock = clock
        self._started: float | None = None
        self._previous: tuple[np.ndarray, float, float] | None = None  # the last frame: image, time, arrival
        self._seq, self._last_k = 0, -1

    @property
    def stream_s(self) -> float:
        """Stream time of the newest frame (seconds since the first)."""
        return max(self.ring.newest, 0.0)

    @property
    def last_arrival(self) -> float | None:
        """When the newest frame arrived (the clock's time), None before the first."""
        return None if self._previous is None else self._previous[2]

    def push(self, image: np.ndarray, arrival: float | None = None) -> list[WindowResult | SegmentEvent]:
        """A frame (uint8 RGB [H, W, 3]) arrived at ``arrival`` (default: now); returns the window it completed,
        scored, and the segment events that decided (nothing when no window closed)."""
        arrival = self._clock() if arrival is None else arrival
        self._started = arrival if self._started is None else self._started
        t = arrival - self._started
        kept = None
        if self._previous is not None:
            prev, t0, a0 = self._previous
            if t <= t0:  # not after the last frame: nothing new on screen
                return []
            if self.grid.covers_point(t0, t):  # the previous frame is sampled by a window: keep it
                kept = LiveFrame(self._seq - 1, t0, t - t0, a0, prev)
        self.ring.add(kept, t, arrival)
        self._previous, self._seq = (image, t, arrival), self._seq + 1
        last = self.grid.last_complete(self.ring.newest)
        if last <= self._last_k:
            return []
        skipped = last - self._last_k - 1
        self.skipped, self._last_k = self.skipped + skipped, last
        points = self.grid.points(last)
        frames = self.ring.pick(points)
        result = self.scorer.score(last, frames, self.ring.arrival_after(points[-1]), skipped=skipped)
        self.latest, self.scored = result, self.scored + 1
        events = self.tracker.push(result.start, result.end, result.probabilities)
        self.events.extend(events)
        return [result, *events]

    def close(self) -> list[SegmentEvent]:
        """The stream ended: close the open segments (their events are also added to ``events``)."""
        events = self.tracker.flush()
        self.events.extend(events)
        return events

    def top(self, k: int = 5) -> dict[str, float]:
        """The newest window's ``k`` most probable classes -> probability ({} before the first window)."""
        if self.latest is None:
            return {}
        probs = self.latest.probabilities.tolist()
        ranked = sorted(zip(self.latest.class_names, probs, strict=True), key=lambda item: -item[1])
        return dict(ranked[:k])
