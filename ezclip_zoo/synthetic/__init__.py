"""Synthetic data anyone can regenerate: motion clips whose classes come in time-reversed pairs, writers that lay
them out like real datasets, long videos with known action segments, and a tiny motion model trained on them."""

from .layouts import LAYOUTS, write_motion_dataset
from .long_videos import LongVideo, LongVideoConfig, TruthSegment, WindowClips, frame_labels, render_long_video
from .motion import (
    MOTION_PAIRS,
    SHAPES,
    STILL_CLASS,
    MotionClips,
    MotionVideoConfig,
    partner_label,
    render_motion_clip,
    render_motion_clip_with_masks,
    within_pair_accuracy,
)
from .motion_models import train_motion_model

__all__ = [
    "LAYOUTS",
    "WindowClips",
    "LongVideo",
    "LongVideoConfig",
    "TruthSegment",
    "frame_labels",
    "render_long_video",
    "train_motion_model",
    "MOTION_PAIRS",
    "SHAPES",
    "STILL_CLASS",
    "MotionClips",
    "MotionVideoConfig",
    "partner_label",
    "render_motion_clip",
    "render_motion_clip_with_masks",
    "within_pair_accuracy",
    "write_motion_dataset",
]
