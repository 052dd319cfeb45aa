"""When each frame of a video is shown and for how long: presentation timestamps in seconds, variable frame rates
included, from the packet index (no decoding) or from a frame rate (frames in memory)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

__all__ = ["FrameTimes", "frame_times_from_pts", "frame_times_from_rate"]


@dataclass(frozen=True)
class FrameTimes:
    """Display times of a video's frames.

    Attributes:
        starts: seconds from the first frame at which frame ``i`` appears (``starts[0] == 0``), increasing.
        durations: seconds frame ``i`` stays on screen (up to the next frame; for the last one, its packet
            duration, else the typical frame interval).
    """

    starts: tuple[float, ...]
    durations: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def duration(self) -> float:
        """Seconds from the first frame's appearance to the end of the last frame."""
        return self.starts[-1] + self.durations[-1]

    def end(self, index: int) -> float:
        """When frame ``index`` leaves the screen (its start plus its duration), seconds."""
        return self.starts[index] + self.durations[index]

    def frame_at(self, t: float) -> int:
        """The frame on screen at time ``t`` seconds (the last frame starting at or before ``t``; clamped to the
        video)."""
        return min(max(bisect.bisect_right(self.starts, t) - 1, 0), len(self.starts) - 1)


def _typical(intervals: Sequence[float]) -> float | None:
    positive = sorted(d for d in intervals if d > 0)
    return positive[len(positive) // 2] if positive else None


def frame_times_from_pts(
    pts: Sequence[int], time_base: Fraction, last_duration: int | None = None, fps: float | None = None
) -> FrameTimes:
    """`FrameTimes` from sorted presentation timestamps in ``time_base`` units.

    Each start is ``(pts - pts[0]) * time_base`` computed exactly and rounded once to a float, so it equals the
    decoded frame's own ``frame.time`` minus the first frame's. The last frame lasts ``last_duration`` (its packet's
    duration) when the file says, else the median frame interval, else ``1 / fps``.
    """
    if not pts:
        raise ValueError("a video has at least one frame")
    first = pts[0]
    starts = tuple(float((p - first) * time_base) for p in pts)
    intervals = [float((b - a) * time_base) for a, b in pairwise(pts)]
    last = float(last_duration * time_base) if last_duration and last_duration > 0 else None
    if last is None:
        last = _typical(intervals) or (1.0 / fps if fps else None)
    if last is None or not math.isfinite(last) or last <= 0:
        last = 0.0
    return FrameTimes(starts=starts, durations=tuple(intervals) + (last,))


def frame_times_from_rate(num_frames: int, fps: float) -> FrameTimes:
    """`FrameTimes` of ``num_frames`` frames shown at a constant ``fps`` (frames per second)."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    if num_frames < 1:
        raise ValueError("a video has at least one frame")
    step = 1.0 / float(fps)
    return FrameTimes(starts=tuple(i / float(fps) for i in range(num_frames)), durations=(step,) * num_frames)
