"""Video file or frames -> the video encoder's input, with numpy, PIL and PyAV only (no torch).

The same steps as the eager `ezclip_zoo.inference.classify` with its defaults (one clip, one crop, the ``"clip"``
protocol): the T segment-centre frames of the TSN rule (`ezclip_zoo.video.frame_indices`), decoded frame-exactly
by `ezclip_zoo.video.PyAVReader`, and each resized, cropped and normalised by `ezclip_zoo.transforms.pixels`, the
implementation the eager `VideoTransform` runs too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..transforms.pixels import preprocess_frame
from ..video.frame_indices import sample_frame_indices

__all__ = ["FramePreprocess", "read_clip"]


@dataclass(frozen=True)
class FramePreprocess:
    """The frame transform a manifest's ``preprocess`` entry describes.

    Attributes:
        image_size: the model's input side S.
        resize_size: the short side before the centre crop (``resize_mode="shortest"``).
        interpolation: ``"bicubic"`` or ``"bilinear"``.
        mean, std: CLIP's per-channel normalisation.
        resize_mode: ``"shortest"``, ``"longest"`` or ``"squash"`` (open_clip's).
        fill_color: the padding value of ``"longest"``.
    """

    image_size: int
    resize_size: int
    interpolation: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize_mode: str = "shortest"
    fill_color: int = 0

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> FramePreprocess:
        """Build it from the ``preprocess`` entry of an export's ``ezclip_export.json``."""
        return cls(
            image_size=int(entry["image_size"]),
            resize_size=int(entry["resize_size"]),
            interpolation=str(entry["interpolation"]),
            mean=tuple(entry["mean"]),
            std=tuple(entry["std"]),
            resize_mode=str(entry.get("resize_mode", "shortest")),
            fill_color=int(entry.get("fill_color", 0)),
        )

    def frame(self, frame: Any) -> np.ndarray:
        """One uint8 RGB frame [H, W, 3] (or a PIL image) -> float32 [3, S, S]."""
        return preprocess_frame(
            frame,
            self.image_size,
            self.resize_size,
            interpolation=self.interpolation,
            mean=self.mean,
            std=self.std,
            resize_mode=self.resize_mode,
            fill_color=self.fill_color,
        )[0]

    def frames(self, frames: np.ndarray | Sequence[Any]) -> np.ndarray:
        """T frames (uint8 [T, H, W, 3], or a list of frames / PIL images) -> float32 [T, 3, S, S]."""
        if isinstance(frames, np.ndarray) and (frames.ndim != 4 or frames.dtype != np.uint8):
            raise ValueError(f"frames must be uint8 RGB [T, H, W, 3], got {frames.dtype} {frames.shape}")
        if len(frames) == 0:
            raise ValueError("frames is empty; pass at least one frame")
        return np.stack([self.frame(f) for f in frames])


def read_clip(
    video: str | os.PathLike | bytes, num_frames: int, preprocess: FramePreprocess, *, threads: int = 0
) -> tuple[np.ndarray, list[int], int]:
    """Sample, decode and preprocess one clip of an encoded video.

    Args:
        video: a path or the file's bytes.
        num_frames: T.
        preprocess: the frame transform.
        threads: FFmpeg decoder threads (0: FFmpeg's choice).

    Returns:
        (float32 [T, 3, S, S], the T frame indices, the video's frame count).

    Raises:
        VideoNotFoundError / VideoDecodeError: the file is missing or cannot be decoded (the message names it).
    """
    from ..video.pyav_reader import PyAVReader
    from ..video.source import VideoSource

    reader = PyAVReader(VideoSource(video), threads=threads)
    indices = sample_frame_indices(reader.num_frames, num_frames, mode="test")
    frames, _ = reader.decode(indices, transform=preprocess.frame)
    return np.stack(frames), indices, reader.num_frames
