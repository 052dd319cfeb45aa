"""PyAV plumbing shared by the readers, and the one place where decoder failures are translated.

Everything PyAV/FFmpeg raises or returns that is not a usable frame becomes either a `VideoDecodeError` naming the
file and the problem, or is handled as players handle it:

* an FFmpeg error while opening, demuxing or decoding (`FFMPEG_ERRORS`): a damaged packet is skipped, a damaged
  container stops the stream where it breaks (the readable part is used, with a `VideoDecodeWarning`), and
  anything that leaves no frame is a `VideoDecodeError` (`translated`);
* a video stream without a decoder (its codec unknown or its parameters damaged: PyAV gives no codec context):
  a `VideoDecodeError` when the container is opened;
* decoded frames without pixels (0 width or height) are dropped like undecodable packets;
* frames decoded at another size than the video's first frame (a resolution change mid-stream, concatenated
  MPEG-TS, a damaged header): scaled to the first frame's size by `FrameConverter`, which counts them so that
  the reader says so in one `VideoDecodeWarning`.

Exceptions that are not FFmpeg's (a caller's transform raising, a bug) are not translated: they propagate as they
are. A file plain PyAV decodes fully gives all its frames.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..errors import VideoDecodeError
from .orientation import Orientation, frame_orientation, orient
from .source import VideoSource

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.packet import Packet
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = [
    "FFMPEG_ERRORS",
    "open_container",
    "demuxed_frames",
    "to_rgb",
    "chain",
    "translated",
    "FrameConverter",
    "first_frame_facts",
]


def _ffmpeg_errors() -> tuple[type[BaseException], ...]:
    import av

    return (av.error.FFmpegError,)


FFMPEG_ERRORS = _ffmpeg_errors()


@contextlib.contextmanager
def translated(source: VideoSource, doing: str = "decoding") -> Iterator[None]:
    """Turn FFmpeg's errors inside the block into a `VideoDecodeError` naming ``source`` (others propagate)."""
    try:
        yield
    except FFMPEG_ERRORS as exc:
        raise VideoDecodeError(
            f"{doing} video {source.name} failed (damaged data): {type(exc).__name__}: {exc}"
        ) from exc


def _open_problem(source: VideoSource) -> str:
    head = source.head()
    if head[4:8] == b"ftyp":
        return (
            "an MP4/MOV file without its index (the 'moov' atom): it is truncated or still being written; "
            "re-download or re-encode it"
        )
    return "not a video FFmpeg can read (unknown format or corrupt data)"


def open_container(source: VideoSource) -> tuple[InputContainer, VideoStream]:
    """``(container, its first video stream)``, other streams discarded; raises `VideoDecodeError` for a file that
    cannot be opened, has no video stream, or whose video stream has no decoder."""
    import av

    try:
        container = av.open(source.open(), mode="r", metadata_errors="ignore")
    except FFMPEG_ERRORS + (OSError,) as exc:  # OSError: a caller's file object failing to read or seek
        raise VideoDecodeError(
            f"cannot open video {source.name}: {_open_problem(source)} [{type(exc).__name__}: {exc}]"
        ) from exc
    if not container.streams.video:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["nothing"]
        container.close()
        raise VideoDecodeError(f"video {source.name} has no video stream (it holds: {', '.join(kinds)})")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        container.close()
        raise VideoDecodeError(
            f"video {source.name}: its video stream has no decoder (the codec is unknown to FFmpeg or the stream's "
            "parameters are damaged); re-encode it, e.g. to H.264"
        )
    discard_all = getattr(getattr(av.stream, "Discard", None), "all", None)  # PyAV >= 17
    for other in container.streams:
        if other.index != stream.index and discard_all is not None:
            other.discard = discard_all  # the demuxer skips audio/subtitle packets
    return container, stream


def _has_pixels(frame: VideoFrame) -> bool:
    return frame.width > 0 and frame.height > 0


def demuxed_frames(container: InputContainer, stream: VideoStream) -> Iterator[VideoFrame]:
    """Decoded frames from the current position; damaged packets are skipped as FFmpeg's tools do, and a damaged
    container ends the stream where it breaks (the decoder's buffered frames are drained)."""
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except FFMPEG_ERRORS:  # one undecodable packet (truncation, bit errors): skip it
                continue
            yield from (f for f in frames if _has_pixels(f))
    except FFMPEG_ERRORS:  # the demuxer stopped on damaged data: drain what the decoder holds
        try:
            yield from (f for f in stream.codec_context.decode(None) if _has_pixels(f))
        except FFMPEG_ERRORS:
            return


def first_frame_facts(container: InputContainer, stream: VideoStream, packet: Packet, state: dict[str, Any]) -> None:
    """During the packet scan, decode packets until the first frame comes out and record its size and
    orientation in ``state`` (``"size"``, ``"orientation"``); gives up after 64 packets (damaged start)."""
    if "size" in state or state.setdefault("tried", 0) >= 64:
        return
    state["tried"] += 1
    try:
        for frame in packet.decode():
            if _has_pixels(frame):
                state["size"] = (frame.width, frame.height)
                state["orientation"] = frame_orientation(frame)
                return
    except FFMPEG_ERRORS:
        return


_REFORMAT_THREADS = True  # PyAV >= 16 takes `threads` (and defaults to a pool per call, which is slow)


def to_rgb(frame: VideoFrame, size: tuple[int, int] | None = None) -> np.ndarray:
    """uint8 RGB [H, W, 3] of a decoded frame (scaled to ``size`` = (width, height) when given), converted with one
    swscale thread: a thread pool per frame costs far more than it saves at video frame sizes."""
    global _REFORMAT_THREADS
    scale: dict[str, Any] = {"width": size[0], "height": size[1]} if size is not None else {}  # to `reformat`
    if _REFORMAT_THREADS:
        try:
            return frame.to_ndarray(format="rgb24", threads=1, **scale)
        except TypeError:
            _REFORMAT_THREADS = False
    return frame.to_ndarray(format="rgb24", **scale)


class FrameConverter:
    """Decoded frame -> uint8 RGB [H, W, 3] as displayed, every frame of a video at one size.

    Args:
        size: (width, height) every frame is given at: the first frame's (what the packet scan decoded), or None to
            take the first converted frame's.
        orientation: the display orientation, or None to take the first converted frame's. One orientation for the
            whole video, so that frames never change shape.

    ``resized`` counts frames that came out of the decoder at another size and were scaled; ``sizes`` the sizes
    they had.
    """

    def __init__(self, size: tuple[int, int] | None, orientation: Orientation | None) -> None:
        self.size, self.orientation = size, orientation
        self.resized = 0
        self.sizes: set[tuple[int, int]] = set()

    def __call__(self, frame: VideoFrame) -> np.ndarray:
        if self.orientation is None:
            self.orientation = frame_orientation(frame)
        if self.size is None:
            self.size = (frame.width, frame.height)
        if (frame.width, frame.height) != self.size:
            self.resized += 1
            self.sizes.add((frame.width, frame.height))
            image = to_rgb(frame, self.size)
        else:
            image = to_rgb(frame)
        return orient(image, self.orientation)


_T = TypeVar("_T")


def chain(first: _T, rest: Iterator[_T]) -> Iterator[_T]:
    """``first``, then what ``rest`` yields."""
    yield first
    yield from rest
