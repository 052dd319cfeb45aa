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

from .._lazy import lazy_attributes

_NAMES = {
    "VideoDecodeError": "..errors",
    "VideoDecodeWarning": "..errors",
    "VideoNotFoundError": "..errors",
    "frames_to_uint8": ".arrays",
    "is_frame_sequence": ".arrays",
    **{
        name: ".decode_plan"
        for name in (
            "KEYFRAME_COST_FRAMES",
            "SEEK_COST_FRAMES",
            "STRATEGIES",
            "choose_strategy",
            "plan_seeks",
            "seek_cost",
            "sequential_cost",
        )
    },
    "PyAVReader": ".pyav_reader",
    "VideoInfo": ".pyav_reader",
    **{
        name: ".reader"
        for name in (
            "BACKENDS",
            "VideoClips",
            "describe",
            "open_video",
            "probe_video",
            "read_video_clips",
            "read_video_frames",
        )
    },
    "SAMPLING_MODES": ".frame_indices",
    "sample_clip_indices": ".frame_indices",
    "sample_frame_indices": ".frame_indices",
    "VideoSource": ".source",
    "is_encoded_source": ".source",
    "VIDEO_EXTENSIONS": ".extensions",
    "write_video": ".writer",
}

__getattr__, __dir__ = lazy_attributes(__name__, _NAMES)

__all__ = [
    "BACKENDS",
    "SAMPLING_MODES",
    "KEYFRAME_COST_FRAMES",
    "SEEK_COST_FRAMES",
    "STRATEGIES",
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
