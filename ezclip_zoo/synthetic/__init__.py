"""Synthetic data anyone can regenerate: motion clips whose classes come in time-reversed pairs, and writers
that lay them out like real datasets."""

from .layouts import LAYOUTS, write_motion_dataset
from .motion import (
    MOTION_PAIRS,
    SHAPES,
    MotionClips,
    MotionVideoConfig,
    partner_label,
    render_motion_clip,
    render_motion_clip_with_masks,
    within_pair_accuracy,
)

__all__ = [
    "LAYOUTS",
    "MOTION_PAIRS",
    "SHAPES",
    "MotionClips",
    "MotionVideoConfig",
    "partner_label",
    "render_motion_clip",
    "render_motion_clip_with_masks",
    "within_pair_accuracy",
    "write_motion_dataset",
]
