"""Encode frames to a video file with PyAV (for tests, examples and synthetic datasets)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import torch

from .arrays import frames_to_uint8

__all__ = ["write_video"]


def _all_frames(frames: Any, rgba: bool) -> torch.Tensor:
    if rgba:  # keep the alpha channel the caller gave
        data = torch.as_tensor(np.asarray(frames) if not isinstance(frames, torch.Tensor) else frames)
        if data.dtype != torch.uint8 or data.ndim != 4 or data.shape[-1] != 4:
            raise ValueError(f"pix_fmt='rgba' needs uint8 frames [T, H, W, 4], got {data.dtype} {tuple(data.shape)}")
        return data
    return frames_to_uint8(frames, "frames to write")


def _one_frame(frame: Any, rgba: bool) -> np.ndarray:
    return _all_frames(torch.as_tensor(np.asarray(frame))[None], rgba)[0].contiguous().numpy()


def _images(frames: Any, rgba: bool) -> tuple[Iterator[np.ndarray], int, int]:
    """(uint8 [H, W, C] frames one by one, H, W); an iterator is streamed, never held in memory."""
    if isinstance(frames, Iterator):
        first = next(frames, None)
        if first is None:
            raise ValueError("no frames to write")
        first = _one_frame(first, rgba)
        h, w = first.shape[:2]
        return itertools.chain([first], (_one_frame(f, rgba) for f in frames)), h, w
    data = _all_frames(frames, rgba)
    h, w = data.shape[1:3]
    return (data[i].contiguous().numpy() for i in range(data.shape[0])), h, w


def _default_pix_fmt(codec: str, h: int, w: int) -> str:
    if codec in ("png", "ffv1", "qtrle", "libx264rgb"):
        return "rgb24"
    return "yuv444p" if codec == "libx264" and (h % 2 or w % 2) else "yuv420p"


def _encoder_options(
    codec: str, bframes: int | None, crf: int | None, keyframe_interval: int | None, options: dict | None
) -> dict[str, str]:
    opts = {}
    if codec == "libx264":
        if bframes is not None:
            opts["bf"] = str(bframes)
        if crf is not None:
            opts["crf"] = str(crf)
        if keyframe_interval is not None:
            opts["x264-params"] = f"keyint={keyframe_interval}:min-keyint={keyframe_interval}:scenecut=0"
    opts.update({str(k): str(v) for k, v in (options or {}).items()})
    return opts


def write_video(
    path: str | os.PathLike | BinaryIO,
    frames: Any,
    *,
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str | None = None,
    keyframe_interval: int | None = None,
    bframes: int | None = None,
    crf: int | None = None,
    rotation: int | None = None,
    container_format: str | None = None,
    faststart: bool = False,
    options: dict | None = None,
) -> None:
    """Write frames [T, H, W, 3] (uint8 or float in [0, 1]; any layout `frames_to_uint8` takes, or an iterator
    of [H, W, 3] frames for long videos) to a video file.

    Args:
        path: output file (its extension picks the container) or a binary file object (give
            ``container_format``, e.g. ``"mp4"``).
        fps: frame rate.
        codec: an FFmpeg encoder (``"libx264"``, ``"mpeg4"``, ``"libvpx-vp9"``, ``"png"``, ``"ffv1"``...).
        pix_fmt: pixel format; ``yuv420p`` for H.264/MPEG-4/VP9 by default (``yuv444p`` when a side is odd with
            H.264), ``rgb24``/``rgba`` for lossless codecs.
        keyframe_interval: frames between keyframes (the GOP size); the encoder's default when None.
        bframes: B-frames between reference frames (H.264); the encoder's default when None.
        crf: H.264 quality (0 lossless ... 51); the encoder's default (23) when None.
        rotation: display-matrix rotation in degrees counter-clockwise (what phones store); readers rotate the
            frames by it.
        container_format: container name when it cannot come from the path.
        faststart: MP4 only: put the index at the start of the file (as web videos do).
        options: more encoder options (FFmpeg's names, string values), e.g. ``{"preset": "ultrafast"}``.
    """
    import av

    rgba = pix_fmt == "rgba"
    images, h, w = _images(frames, rgba)
    if pix_fmt is None:
        pix_fmt = _default_pix_fmt(codec, h, w)
    container_options = {"movflags": "faststart"} if faststart else {}
    target = os.fspath(path) if isinstance(path, (str, os.PathLike)) else path
    with av.open(target, mode="w", format=container_format, options=container_options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if keyframe_interval is not None:
            stream.gop_size = keyframe_interval
        stream.options = _encoder_options(codec, bframes, crf, keyframe_interval, options)
        if rotation is not None:
            if not hasattr(stream, "set_display_rotation"):
                raise RuntimeError(f"writing rotation metadata needs PyAV >= 18 (installed: {av.__version__})")
            stream.set_display_rotation(rotation)
        for image in images:
            frame = av.VideoFrame.from_ndarray(image, format="rgba" if rgba else "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
