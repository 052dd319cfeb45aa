"""Synthetic data anyone can regenerate: motion clips whose classes come in time-reversed pairs, writers that lay
them out like real datasets, long videos with known action segments, and a tiny motion model trained on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .layouts import write_motion_dataset
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

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".layouts": ("write_motion_dataset",),
        ".long_videos": (
            "LongVideo",
            "LongVideoConfig",
            "TruthSegment",
            "WindowClips",
            "frame_labels",
            "render_long_video",
        ),
        ".motion": (
            "MOTION_PAIRS",
            "MotionClips",
            "MotionVideoConfig",
            "SHAPES",
            "STILL_CLASS",
            "partner_label",
            "render_motion_clip",
            "render_motion_clip_with_masks",
            "within_pair_accuracy",
        ),
        ".motion_models": ("train_motion_model",),
    },
)
