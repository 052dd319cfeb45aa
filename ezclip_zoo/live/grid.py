"""Where live windows fall in stream time and which instants they sample: windows of ``window_s`` seconds start
every ``stride_s`` from the first frame (window k covers ``[k * stride_s, k * stride_s + window_s)``), and each
samples the frames on screen at the centres of T equal parts of it, the rule `plan_windows` applies to files."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["WindowGrid"]

_EPS = 1e-9


@dataclass(frozen=True)
class WindowGrid:
    """The windows of a live stream.

    Attributes:
        window_s: window length, seconds.
        stride_s: seconds between window starts.
        num_frames: T, frames sampled per window.
    """

    window_s: float
    stride_s: float
    num_frames: int

    @property
    def step(self) -> float:
        """Seconds between a window's sampled instants."""
        return self.window_s / self.num_frames

    def begin(self, k: int) -> float:
        """Where window ``k`` starts, seconds."""
        return k * self.stride_s

    def points(self, k: int) -> list[float]:
        """The T instants (seconds) window ``k`` samples."""
        return [self.begin(k) + (m + 0.5) * self.step for m in range(self.num_frames)]

    def covers_point(self, start: float, end: float) -> bool:
        """Whether a frame on screen over ``[start, end)`` is sampled by some window (so it must be kept)."""
        first = max(0, math.floor((start - self.window_s) / self.stride_s))
        last = math.floor(end / self.stride_s) + 1
        for k in range(first, last + 1):
            m = max(0, math.ceil((start - self.begin(k)) / self.step - 0.5 - _EPS))  # first instant >= start
            if m < self.num_frames and start - _EPS <= self.begin(k) + (m + 0.5) * self.step < end:
                return True
        return False

    def last_complete(self, newest: float) -> int:
        """The last window whose every sampled instant lies before ``newest`` (the newest frame's time): the frame
        on screen at each is then known. -1 when none is."""
        k = math.ceil((newest - self.window_s + self.step / 2) / self.stride_s - _EPS) - 1
        while k >= 0 and self.points(k)[-1] >= newest:
            k -= 1
        while self.points(k + 1)[-1] < newest:
            k += 1
        return max(k, -1)

    def last_within(self, end: float) -> int:
        """The last window that lies wholly inside a stream that ended at ``end`` seconds (-1: none)."""
        return math.floor((end - self.window_s) / self.stride_s + _EPS) if end + _EPS >= self.window_s else -1
