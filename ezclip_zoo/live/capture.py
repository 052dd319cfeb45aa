"""The capture thread and the ring buffer it fills: frames decoded as they arrive, only those a window samples
kept (as uint8 RGB), and only for as long as a window still to be scored may need them, so memory stays flat
however long the stream runs. Outages (a source that dropped or stalled and came back) are recorded as `RingGap`s
for the model's thread to report."""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .clock import StreamClock
from .grid import WindowGrid
from .reconnect import DROPPED, ConnectionStats, decoded_frames
from .sources import LiveSource

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

__all__ = ["LiveFrame", "FrameRing", "CaptureThread", "RingGap"]


@dataclass(frozen=True)
class LiveFrame:
    """A kept frame: ``seq`` (its number since the stream started), ``time`` and ``duration`` (stream seconds),
    ``arrival`` (``time.monotonic()`` when it was released) and ``image`` (uint8 RGB [H, W, 3])."""

    seq: int
    time: float
    duration: float
    arrival: float
    image: np.ndarray


@dataclass
class RingGap:
    """An outage: ``start`` (stream seconds: the end of the last frame before it), ``lost_at`` (``time.monotonic()``
    when the source dropped or stalled), and once frames came back ``end`` (stream seconds of the first frame after
    it) and ``resumed_at``."""

    start: float
    lost_at: float
    end: float | None = None
    resumed_at: float | None = None


class FrameRing:
    """What the capture thread hands the model: the kept frames, the newest frame's time, outages, and how it
    ended. Every method takes ``cond`` (a `threading.Condition`); the model waits on it for a window to complete.
    """

    def __init__(self, grid: WindowGrid) -> None:
        self.grid = grid
        self.cond = threading.Condition()
        self.frames: deque[LiveFrame] = deque()
        self.arrivals: deque[tuple[float, float]] = deque()  # (time, arrival) of every recent frame
        self.gaps: deque[RingGap] = deque()  # outages the model's thread has not reported yet, oldest first
        self.newest = -1.0  # the newest frame's stream time (-1: none yet); the end of the last frame after a drop
        self.ended = False
        self.end_time = 0.0
        self.error: BaseException | None = None
        self.received = 0

    def add(self, frame: LiveFrame | None, time_: float, arrival: float) -> None:
        """A frame arrived at ``time_``; ``frame`` is the previous frame when a window samples it (else None)."""
        with self.cond:
            if frame is not None:
                self.frames.append(frame)
            if self.gaps and self.gaps[-1].end is None:  # the first frame after an outage
                self.gaps[-1].end, self.gaps[-1].resumed_at = time_, arrival
            self.arrivals.append((time_, arrival))
            self.newest, self.received = time_, self.received + 1
            self._prune()
            self.cond.notify_all()

    def interrupt(self, last: LiveFrame | None, end_time: float, lost_at: float) -> None:
        """The source dropped or stalled after a frame ending at ``end_time`` (``last``: that frame, if kept)."""
        with self.cond:
            if last is not None:
                self.frames.append(last)
            self.newest = max(self.newest, end_time)
            self.gaps.append(RingGap(start=end_time, lost_at=lost_at))
            self.cond.notify_all()

    def finish(self, last: LiveFrame | None, end_time: float, error: BaseException | None = None) -> None:
        """The stream ended at ``end_time`` (stream seconds); ``last`` is its last frame."""
        with self.cond:
            if last is not None:
                self.frames.append(last)
            self.ended, self.end_time, self.error = True, max(end_time, self.newest, 0.0), error
            self.cond.notify_all()

    def _prune(self) -> None:
        """Drop what no window still to come can sample: frames that end before the newest complete window (and
        never those a window before an outage not yet reported may sample)."""
        horizon = self.grid.begin(max(self.grid.last_complete(self.newest), 0))
        if self.gaps:
            horizon = min(horizon, self.gaps[0].start - self.grid.window_s - self.grid.stride_s)
        while len(self.frames) > 1 and self.frames[1].time <= horizon:
            self.frames.popleft()
        while len(self.arrivals) > 1 and self.arrivals[1][0] <= horizon:
            self.arrivals.popleft()

    def pick(self, points: list[float]) -> list[LiveFrame]:
        """The kept frame on screen at each instant (the last one starting at or before it). Call under ``cond``."""
        times = [f.time for f in self.frames]
        return [self.frames[max(bisect.bisect_right(times, p) - 1, 0)] for p in points]

    def arrival_after(self, instant: float) -> float:
        """When the first frame after ``instant`` arrived (the one that completed a window). Call under ``cond``."""
        for t, arrival in self.arrivals:
            if t > instant:
                return arrival
        return self.arrivals[-1][1] if self.arrivals else time.monotonic()


class CaptureThread(threading.Thread):
    """Decodes ``source`` into ``ring`` at its own pace (or at ``source.pace``), keeping the frames the window grid
    samples as RGB; ends at the end of the source, on ``stop`` or after ``timeout_s`` without a frame. A drop or a
    stall becomes a `RingGap` in the ring; ``stats`` counts the source's connections."""

    def __init__(
        self,
        source: LiveSource,
        ring: FrameRing,
        *,
        timeout_s: float,
        clock: StreamClock | None = None,
        convert: Callable[[VideoFrame], np.ndarray] | None = None,
    ) -> None:
        super().__init__(name=f"ezclip-zoo capture {source.name}", daemon=True)
        self.source, self.ring, self.timeout_s = source, ring, timeout_s
        self.clock = clock or StreamClock(pace=source.pace or 1.0)
        self.stopping = threading.Event()
        self.stats = ConnectionStats()
        self._convert = convert
        self._intervals: deque[float] = deque(maxlen=16)

    def stop(self) -> None:
        """Ask the thread to end (it does at its next frame, or its source's next read timeout)."""
        self.stopping.set()

    def _last(self, previous: tuple[Any, float, float], seq: int, convert: Callable) -> tuple[LiveFrame, float]:
        """The frame before a drop or the end, with the median frame interval as its duration; and where it ends."""
        prev, t0, a0 = previous
        duration = sorted(self._intervals)[len(self._intervals) // 2] if self._intervals else 0.0
        return LiveFrame(seq - 1, t0, duration, a0, convert(prev)), t0 + duration

    def run(self) -> None:
        from ..video.pyav_io import FrameConverter

        convert = self._convert or FrameConverter(None, None)
        previous: tuple[Any, float, float] | None = None  # (decoded frame, time, arrival), awaiting its duration
        seq, started, error = 0, None, None
        try:
            for frame, arrival in decoded_frames(
                self.source,
                timeout_s=self.timeout_s,
                stopping=self.stopping,
                on_restart=self.clock.restart,
                stats=self.stats,
            ):
                if frame is DROPPED:
                    if previous is not None:
                        last, end = self._last(previous, seq, convert)
                        self.ring.interrupt(last, end, arrival)
                        previous = None
                    continue
                t = self.clock.time(frame.pts, frame.time_base, arrival)
                if self.source.pace is not None:  # a file: released when its time comes
                    started = arrival - t / self.source.pace if started is None else started
                    delay = started + t / self.source.pace - time.monotonic()
                    if delay > 0 and self.stopping.wait(delay):
                        break
                    arrival = time.monotonic()
                kept = None
                if previous is not None:
                    prev, t0, a0 = previous
                    self._intervals.append(t - t0)
                    if self.ring.grid.covers_point(t0, t):
                        kept = LiveFrame(seq - 1, t0, t - t0, a0, convert(prev))
                self.ring.add(kept, t, arrival)
                previous, seq = (frame, t, arrival), seq + 1
        except BaseException as exc:  # handed to the model's thread, which raises it
            error = exc
        if previous is None:
            self.ring.finish(None, 0.0, error)
        else:
            self.ring.finish(*self._last(previous, seq, convert), error)
