"""Where the sliding windows of a long video fall, and which frames each one samples.

A window covers ``window_s`` seconds starting every ``stride_s`` seconds; its T frames are the frames on screen at
the centres of T equal parts of the window (the TSN test rule, in time rather than frame counts, so a variable
frame rate samples what a viewer sees). A window's ``start`` is its first sampled frame's timestamp and its
``end`` its last sampled frame's timestamp plus that frame's duration. The last window is aligned to the end of the
video so the tail is scored too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, overload

from ..video.frame_times import FrameTimes

__all__ = ["WindowPlan", "WindowLayout", "plan_windows", "check_seconds"]

_EPS = 1e-9  # seconds: float slack when a window ends exactly at the end of the video


@dataclass(frozen=True)
class WindowPlan:
    """One window: the frame indices it samples (T, in time order) and the span they cover (seconds)."""

    start: float
    end: float
    indices: tuple[int, ...]


@dataclass(frozen=True)
class WindowLayout:
    """The windows of a video and what the caller should be told about them.

    Attributes:
        windows: in start order.
        window_s, stride_s: the window length and stride used (seconds).
        duration: the video's length (seconds from its first frame to the end of its last).
        notes: why the layout differs from what was asked (a video shorter than one window, a stride longer than
            the video); empty otherwise.
    """

    windows: tuple[WindowPlan, ...]
    window_s: float
    stride_s: float
    duration: float
    notes: tuple[str, ...] = ()


@overload
def check_seconds(name: str, value: object, *, allow_none: Literal[False] = False) -> float: ...


@overload
def check_seconds(name: str, value: object, *, allow_none: bool) -> float | None: ...


def check_seconds(name: str, value: object, *, allow_none: bool = False) -> float | None:
    """``value`` as a positive, finite number of seconds, or a ValueError/TypeError naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return float(value)


def _window(times: FrameTimes, begin: float, length: float, num_frames: int) -> WindowPlan:
    step = length / num_frames
    indices = tuple(times.frame_at(begin + (k + 0.5) * step) for k in range(num_frames))
    return WindowPlan(start=times.starts[indices[0]], end=times.end(indices[-1]), indices=indices)


def plan_windows(times: FrameTimes, num_frames: int, window_s: float, stride_s: float | None = None) -> WindowLayout:
    """Lay sliding windows over a video.

    Args:
        times: the video's frame times (`ezclip_zoo.video.FrameTimes`).
        num_frames: T, frames per window (the model's).
        window_s: window length, seconds.
        stride_s: seconds between window starts (default: half a window). A stride longer than the window leaves
            gaps that no window scores.

    Returns:
        `WindowLayout`. A video shorter than one window gives one window over the whole video, and a note.
    """
    window_s = check_seconds("window_s", window_s)
    stride_s = check_seconds("stride_s", stride_s, allow_none=True) or window_s / 2
    if not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive int, got {num_frames!r}")
    duration = times.duration
    if duration <= window_s + _EPS:
        note = (
            f"the video ({duration:.3f} s) is not longer than one window (window_s={window_s:g} s): "
            "it is scored as one window"
        )
        return WindowLayout((_window(times, 0.0, duration, num_frames),), window_s, stride_s, duration, (note,))
    count = int(math.floor((duration - window_s) / stride_s + _EPS)) + 1
    begins = [w * stride_s for w in range(count)]
    if begins[-1] + window_s < duration - _EPS:
        begins.append(duration - window_s)  # cover the tail
    notes: tuple[str, ...] = ()
    if stride_s > duration:
        notes = (
            f"stride_s={stride_s:g} s is longer than the video ({duration:.3f} s): only its first and last "
            "window are scored",
        )
    windows = tuple(_window(times, b, window_s, num_frames) for b in begins)
    return WindowLayout(windows, window_s, stride_s, duration, notes)
