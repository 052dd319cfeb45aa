"""Read sampled clips from any video input: an encoded file (path, bytes, file object) or frames in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import torch

from ..choices import BACKENDS, STRATEGIES
from .arrays import frames_to_uint8, is_frame_sequence
from .frame_indices import SAMPLING_MODES, sample_clip_indices, sample_frame_indices
from .pyav_reader import PyAVReader, VideoInfo
from .source import VideoSource, is_encoded_source

if TYPE_CHECKING:
    from .torchcodec_reader import TorchCodecReader

__all__ = ["open_video", "probe_video", "read_video_frames", "read_video_clips", "VideoClips", "describe"]


FrameTransform = Callable[[np.ndarray], Any]


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def check_read_arguments(
    *,
    num_frames: Any = 1,
    num_clips: Any = 1,
    mode: str = "test",
    strategy: str = "auto",
    backend: str = "pyav",
    threads: Any = 0,
) -> None:
    """Validate the arguments every reading entry point shares, whatever the video input is (TypeError for a wrong
    type, ValueError for a wrong value; the message names the argument and what is accepted)."""
    _check_int("num_frames", num_frames, 1)
    _check_int("num_clips", num_clips, 1)
    _check_int("threads", threads, 0)
    for name, value, accepted in (
        ("mode", mode, SAMPLING_MODES),
        ("strategy", strategy, STRATEGIES),
        ("backend", backend, BACKENDS),
    ):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be one of {accepted}, got {type(value).__name__} {value!r}")
        if value not in accepted:
            raise ValueError(f"{name} must be one of {accepted}, got {value!r}")


def describe(video: Any) -> str:
    """A short name for a video input, for messages and result records."""
    if isinstance(video, VideoSource):
        return video.name
    if callable(getattr(video, "read", None)):
        name = getattr(video, "name", None)
        return name if isinstance(name, str) else f"<{type(video).__name__}>"
    if is_encoded_source(video) and not isinstance(video, (bytes, bytearray, memoryview)):
        return str(video)
    if isinstance(video, (bytes, bytearray, memoryview)):
        return f"<{len(video)} bytes>"
    if isinstance(video, (np.ndarray, torch.Tensor)):
        return f"<{type(video).__name__} {tuple(video.shape)}>"
    if isinstance(video, (list, tuple)):
        return f"<{len(video)} images>"
    return f"<{type(video).__name__}>"


@overload
def open_video(source: Any, *, backend: Literal["pyav"] = ..., threads: int = ...) -> PyAVReader: ...
@overload
def open_video(source: Any, *, backend: str, threads: int = ...) -> PyAVReader | TorchCodecReader: ...
def open_video(source: Any, *, backend: str = "pyav", threads: int = 0) -> PyAVReader | TorchCodecReader:
    """Open an encoded video for exact frame access.

    Args:
        source: a path, bytes or a binary file object.
        backend: ``"pyav"`` (default, FFmpeg bundled) or ``"torchcodec"`` (optional extra).
        threads: decoder threads (0: FFmpeg's choice).

    Returns:
        A reader with ``num_frames``, ``keyframes`` and ``decode(indices, strategy=..., transform=...)``.

    Raises:
        VideoNotFoundError, VideoDecodeError: the file is missing, empty, not a video, or has no video frame.
    """
    check_read_arguments(backend=backend, threads=threads)
    src = source if isinstance(source, VideoSource) else VideoSource(source)
    if backend == "torchcodec":
        from .torchcodec_reader import TorchCodecReader

        return TorchCodecReader(src, threads=max(threads, 1))
    return PyAVReader(src, threads=threads)


def probe_video(source: Any) -> VideoInfo:
    """Exact frame count, display size, frame rate, rotation and keyframes of an encoded video (PyAV)."""
    return open_video(source).info


@dataclass
class VideoClips:
    """Sampled clips of one video.

    Attributes:
        name: the video's name (path or description).
        frames: ``num_clips`` lists of T frames (uint8 tensors [H, W, 3], or whatever ``transform`` returned).
        indices: the frame indices of each clip.
        total_frames: frames in the whole video.
        strategy: how they were decoded (``"sequential"``, ``"seek"``, ``"torchcodec"``, or ``"memory"``).
    """

    name: str
    frames: list[list[Any]]
    indices: list[list[int]]
    total_frames: int
    strategy: str


def read_video_clips(
    video: Any,
    num_frames: int,
    *,
    num_clips: int = 1,
    mode: str = "test",
    generator: torch.Generator | None = None,
    strategy: str = "auto",
    backend: str = "pyav",
    threads: int = 0,
    transform: FrameTransform | None = None,
) -> VideoClips:
    """Sample and decode ``num_clips`` clips of ``num_frames`` frames (TSN sampling) from any video input.

    Args:
        video: a path, bytes, a binary file object, a list of PIL images, or frames as an array/tensor (see
            `ezclip_zoo.video.arrays`).
        num_frames: T.
        num_clips: temporal views (test mode only; see `sample_clip_indices`).
        mode: ``"test"`` (segment centres) or ``"train"`` (random frame per segment, one clip).
        generator: random source for train mode.
        strategy: ``"auto"``, ``"sequential"`` or ``"seek"`` (encoded files only).
        backend: ``"pyav"`` or ``"torchcodec"``.
        threads: decoder threads.
        transform: applied to each frame (uint8 RGB ndarray [H, W, 3]) right after decoding.

    Returns:
        `VideoClips`.

    Raises:
        TypeError, ValueError: an argument of the wrong type or value (the message names it and what is accepted),
            in-memory frames of a layout or dtype that is not accepted (`frames_to_uint8`).
        VideoDecodeError (VideoNotFoundError for a missing path): the file cannot be read; the message names it.
    """
    check_read_arguments(
        num_frames=num_frames, num_clips=num_clips, mode=mode, strategy=strategy, backend=backend, threads=threads
    )
    if mode == "train" and num_clips != 1:
        raise ValueError("multi-clip sampling is a test-time protocol; use num_clips=1 with mode='train'")
    if is_frame_sequence(video) or isinstance(video, (list, tuple)):  # lists are frames here (errors say why not)
        frames = frames_to_uint8(video, "video frames")
        total = frames.shape[0]
        reader, name = None, describe(video)
    elif is_encoded_source(video) or isinstance(video, VideoSource):
        reader = open_video(video, backend=backend, threads=threads)
        total, name = reader.num_frames, reader.source.name
    else:
        raise TypeError(
            "a video must be a path, bytes, a binary file object, a list of PIL images, a numpy array [T, H, W, 3] "
            f"or a tensor; got {type(video).__name__}"
        )
    if mode == "train":
        clips = [sample_frame_indices(total, num_frames, mode="train", generator=generator)]
    else:
        clips = sample_clip_indices(total, num_frames, num_clips)
    flat = [i for clip in clips for i in clip]
    if reader is None:
        cache: dict[int, Any] = {}
        for i in flat:
            if i not in cache:
                cache[i] = transform(frames[i].numpy()) if transform is not None else frames[i]
        decoded, used = [cache[i] for i in flat], "memory"
    else:
        decoded, used = reader.decode(flat, strategy=strategy, transform=transform)
    out = [decoded[c * num_frames : (c + 1) * num_frames] for c in range(len(clips))]
    return VideoClips(name=name, frames=out, indices=clips, total_frames=total, strategy=used)


def read_video_frames(
    source: str | bytes | Any,
    num_frames: int,
    *,
    mode: str = "test",
    generator: torch.Generator | None = None,
    strategy: str = "auto",
    backend: str = "pyav",
    threads: int = 0,
) -> torch.Tensor:
    """Decode one TSN-sampled clip of a video.

    Args:
        source: a path, bytes or a binary file object (frames in memory are accepted too).
        num_frames: T, frames to return.
        mode: ``"test"`` (segment centres) or ``"train"`` (a random frame per segment).
        generator: random source for train mode.
        strategy: ``"auto"`` (picks the cheaper), ``"sequential"`` or ``"seek"``; all return the same frames.
        backend: ``"pyav"`` (default) or ``"torchcodec"``.
        threads: decoder threads (0: FFmpeg's choice; use 1 in DataLoader workers).

    Returns:
        uint8 RGB frames [T, H, W, 3] as players show them: oriented by the display matrix (rotation and mirror),
        every frame at the first frame's size (frames a damaged or resolution-changing stream decodes at another
        size are scaled to it, and a `VideoDecodeWarning` says so).

    Raises:
        VideoDecodeError (VideoNotFoundError for a missing path): naming the file and the problem.
    """
    clips = read_video_clips(
        source, num_frames, mode=mode, generator=generator, strategy=strategy, backend=backend, threads=threads
    )
    return torch.stack([torch.as_tensor(f) for f in clips.frames[0]])
