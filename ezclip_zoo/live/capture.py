"""The capture thread and the ring buffer it fills: frames decoded as they arrive, only those a window samples
kept (as uint8 RGB), and only for as long as a window still to be scored may need them, so memory stays flat
however long the stream runs."""

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
from .sources import LiveSource, decoded_frames

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

__all__ = ["LiveFrame", "FrameRing", "CaptureThread"]


@dataclass(frozen=True)
class LiveFrame:
    """A kept frame: ``seq`` (its number since the stream started), ``time`` and ``duration`` (stream seconds),
    ``arrival`` (``time.monotonic()`` when it was released) and ``image`` (uint8 RGB [H, W, 3])."""

    seq: int
    time: float
    duration: float
    arrival: float
    image: np.ndarray


class FrameRing:
    """What the capture thread hands the model: the kept frames, the newest frame's time, and how it ended.

    Every method takes ``cond`` (a `threading.Condition`); the model waits on it for a window to complete.
    """

    def __init__(self, grid: WindowGrid) -> None:
        self.grid = grid
        self.cond = threading.Condition()
        self.frames: deque[LiveFrame] = deque()
        self.arrivals: deque[tuple[float, float]] = deque()  # (time, arrival) of every recent frame
        self.newest = -1.0  # the newest frame's stream time (-1: none yet)
        self.ended = False
        self.end_time = 0.0
        self.error: BaseException | None = None
        self.received = 0

    def add(self, frame: LiveFrame | None, time_: float, arrival: float) -> None:
        """A frame arrived at ``time_``; ``frame`` is the previous frame when a window samples it (else None)."""
        with self.cond:
            if frame is not None:
                self.frames.append(frame)
            self.arrivals.append((time_, arrival))
            self.newest, self.received = time_, self.received + 1
            self._prune()
            self.cond.notify_all()

    def finish(self, last: LiveFrame | None, end_time: float, error: BaseException | None = None) -> None:
        """The stream ended at ``end_time`` (stream seconds); ``last`` is its last frame."""
        with self.cond:
            if last is not None:
                self.frames.append(last)
            self.ended, self.end_time, self.error = True, end_time, error
            self.cond.notify_all()

    def _prune(self) -> None:
        """Drop what no window still to come can sample: frames that end before the newest complete window."""
        horizon = self.grid.begin(max(self.grid.last_complete(self.newest), 0))
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
    samples as RGB; ends at the end of the source, on ``stop`` or after ``timeout_s`` without a frame."""

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
        self._convert = convert

    def stop(self) -> None:
        """Ask the thread to end (it does at its next frame, or its source's next read timeout)."""
        self.stopping.set()

    def run(self) -> None:
        from ..video.pyav_io import FrameConverter

        convert = self._convert or FrameConverter(None, None)
        previous: tuple[Any, float, float] | None = None  # (decoded frame, time, arrival), awaiting its duration
        seq, started, error = 0, None, None
        intervals: deque[float] = deque(maxlen=16)
        try:
            for frame, arrival in decoded_frames(
                self.source, timeout_s=self.timeout_s, stop=self.stopping.is_set, on_restart=self.clock.restart
            ):
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
                    intervals.append(t - t0)
                    if self.ring.grid.covers_point(t0, t):
                        kept = LiveFrame(seq - 1, t0, t - t0, a0, convert(prev))
                self.ring.add(kept, t, arrival)
                previous, seq = (frame, t, arrival), seq + 1
        except BaseException as exc:  # handed to the model's thread, which raises it
            error = exc
        last, end = None, 0.0
        if previous is not None:
            prev, t0, a0 = previous
            duration = sorted(intervals)[len(intervals) // 2] if intervals else 0.0
            last, end = LiveFrame(seq - 1, t0, duration, a0, convert(prev)), t0 + duration
        self.ring.finish(last, end, error)
