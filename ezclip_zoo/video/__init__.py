"""Video input: decoding (PyAV, optional torchcodec), TSN frame sampling, and in-memory frame conversion.

The main entry points:

* `read_video_frames(source, num_frames)` -> uint8 RGB [T, H, W, 3] for one TSN-sampled clip;
* `read_video_clips(video, num_frames, num_clips=..., transform=...)` for any input (files or frames in memory),
  several temporal views, with a per-frame transform applied as frames are decoded;
* `sample_frame_indices(total_frames, num_frames, mode=...)`, the reference's TSN rule;
* `probe_video(source)` -> `VideoInfo` (exact frame count, size, rotation, keyframes);
* `write_video(path, frames)` to make test videos.

The names are imported on first use (PEP 562): the decoder (`pyav_reader`) and the sampling rule
(`frame_indices`) need no torch, and `ezclip_zoo.runtime` uses them on machines without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from ..errors import VideoDecodeError, VideoDecodeWarning, VideoNotFoundError
    from .arrays import frames_to_uint8, is_frame_sequence
    from .decode_plan import (
        KEYFRAME_COST_FRAMES,
        SEEK_COST_FRAMES,
        choose_strategy,
        plan_seeks,
        seek_cost,
        sequential_cost,
    )
    from .extensions import VIDEO_EXTENSIONS
    from .frame_indices import SAMPLING_MODES, sample_clip_indices, sample_frame_indices
    from .pyav_reader import PyAVReader, VideoInfo
    from .reader import VideoClips, describe, open_video, probe_video, read_video_clips, read_video_frames
    from .source import VideoSource, is_encoded_source
    from .writer import write_video

__all__ = [
    "SAMPLING_MODES",
    "KEYFRAME_COST_FRAMES",
    "SEEK_COST_FRAMES",
    "VIDEO_EXTENSIONS",
    "PyAVReader",
    "VideoClips",
    "VideoDecodeError",
    "VideoDecodeWarning",
    "VideoInfo",
    "VideoNotFoundError",
    "VideoSource",
    "choose_strategy",
    "describe",
    "frames_to_uint8",
    "is_encoded_source",
    "is_frame_sequence",
    "open_video",
    "plan_seeks",
    "probe_video",
    "read_video_clips",
    "read_video_frames",
    "sample_clip_indices",
    "sample_frame_indices",
    "seek_cost",
    "sequential_cost",
    "write_video",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "..errors": ("VideoDecodeError", "VideoDecodeWarning", "VideoNotFoundError"),
        ".arrays": ("frames_to_uint8", "is_frame_sequence"),
        ".decode_plan": (
            "KEYFRAME_COST_FRAMES",
            "SEEK_COST_FRAMES",
            "choose_strategy",
            "plan_seeks",
            "seek_cost",
            "sequential_cost",
        ),
        ".extensions": ("VIDEO_EXTENSIONS",),
        ".frame_indices": ("SAMPLING_MODES", "sample_clip_indices", "sample_frame_indices"),
        ".pyav_reader": ("PyAVReader", "VideoInfo"),
        ".reader": (
            "VideoClips",
            "describe",
            "open_video",
            "probe_video",
            "read_video_clips",
            "read_video_frames",
        ),
        ".source": ("VideoSource", "is_encoded_source"),
        ".writer": ("write_video",),
    },
)
