"""PyAV plumbing shared by the readers: opening a container on its video stream, iterating decoded frames past
damaged packets, and converting a frame to RGB."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..errors import VideoDecodeError
from .source import VideoSource

__all__ = ["open_container", "demuxed_frames", "to_rgb", "chain"]


def open_container(source: VideoSource):
    import av

    try:
        container = av.open(source.open(), mode="r", metadata_errors="ignore")
    except Exception as exc:  # FFmpeg's errors (InvalidDataError, ...) and OSError from file objects
        head = source.head()
        if head[4:8] == b"ftyp":
            problem = (
                "an MP4/MOV file without its index (the 'moov' atom): it is truncated or still being written; "
                "re-download or re-encode it"
            )
        else:
            problem = "not a video FFmpeg can read (unknown format or corrupt data)"
        raise VideoDecodeError(f"cannot open video {source.name}: {problem} [{type(exc).__name__}: {exc}]") from exc
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        container.close()
        raise VideoDecodeError(f"video {source.name} has no video stream (it holds: {', '.join(kinds)})")
    stream = container.streams.video[0]
    discard_all = getattr(getattr(av.stream, "Discard", None), "all", None)  # PyAV >= 17
    for other in container.streams:
        if other.index != stream.index and discard_all is not None:
            other.discard = discard_all  # the demuxer skips audio/subtitle packets
    return container, stream


def demuxed_frames(container, stream) -> Iterator[Any]:
    """Decoded frames from the current position; damaged packets are skipped as FFmpeg's tools do."""
    try:
        for packet in container.demux(stream):
            try:
                yield from packet.decode()
            except Exception:  # one undecodable packet (truncation, bit errors): skip it
                continue
    except Exception:  # the demuxer stopped on damaged data: drain what the decoder holds
        try:
            yield from stream.codec_context.decode(None)
        except Exception:
            return


_REFORMAT_THREADS = True  # PyAV >= 16 takes `threads` (and defaults to a pool per call, which is slow)


def to_rgb(frame) -> np.ndarray:
    """uint8 RGB [H, W, 3] of a decoded frame, converted with one swscale thread: a thread pool per frame costs
    far more than it saves at video frame sizes."""
    global _REFORMAT_THREADS
    if _REFORMAT_THREADS:
        try:
            return frame.to_ndarray(format="rgb24", threads=1)
        except TypeError:
            _REFORMAT_THREADS = False
    return frame.to_ndarray(format="rgb24")


def chain(first, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
