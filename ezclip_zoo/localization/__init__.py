"""Temporal localisation building blocks: sliding windows over a long video (`plan_windows`), the rule that turns
window scores into segments with "no action" possible (`SegmentRule`, `find_segments`), and the result type.
The pipeline that runs the model is `ezclip_zoo.inference.localize`."""

from .result import LocalizationResult, Window
from .segments import Segment, SegmentRule, find_segments, window_cells
from .windows import WindowLayout, WindowPlan, plan_windows

__all__ = ["LocalizationResult", "Segment", "SegmentRule", "Window", "WindowLayout", "WindowPlan", "find_segments",
           "plan_windows", "window_cells"]
