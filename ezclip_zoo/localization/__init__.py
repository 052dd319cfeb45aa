"""Temporal localisation: when each action happens in a long video.

* `localize(model, long_video, class_names, window_s=..., stride_s=...)` (also ``model.localize``) -> a
  `LocalizationResult` (window scores and segments): the streaming window pipeline (`pipeline`), which encodes and
  scores the windows with `ezclip_zoo.inference`'s batching and zero-shot scoring;
* its building blocks: sliding windows over the video's frame times (`plan_windows`), the rule that turns window
  scores into segments with "no action" possible (`SegmentRule`, `find_segments`), and the result type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .pipeline import localize
    from .result import LocalizationResult, Window
    from .segments import Segment, SegmentEvent, SegmentRule, SegmentTracker, find_segments, window_cells
    from .windows import WindowLayout, WindowPlan, plan_windows

__all__ = [
    "LocalizationResult",
    "Segment",
    "SegmentEvent",
    "SegmentRule",
    "SegmentTracker",
    "Window",
    "WindowLayout",
    "WindowPlan",
    "find_segments",
    "localize",
    "plan_windows",
    "window_cells",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".pipeline": ("localize",),
        ".result": ("LocalizationResult", "Window"),
        ".segments": ("Segment", "SegmentEvent", "SegmentRule", "SegmentTracker", "find_segments", "window_cells"),
        ".windows": ("WindowLayout", "WindowPlan", "plan_windows"),
    },
)
