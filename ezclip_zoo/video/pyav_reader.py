"""Frame-exact decoding with PyAV (FFmpeg), by reading sequentially or by seeking to keyframes.

Frame ``i`` of a video is the ``i``-th frame in presentation order. A first pass reads the packets without
decoding them (cheap: no pixel work) and gives the exact frame count, every frame's presentation timestamp (pts)
and where the keyframes are, whatever the container's header claims. The second pass decodes only as far as the
wanted frames need:

* **sequential** decodes from the start up to the last wanted frame;
* **seek** jumps to the keyframe at or before each wanted frame and decodes from there (continuing instead when
  the next wanted frame is closer than a seek).

Both strategies pick frames by pts, with the same rule (the last decoded frame whose pts is at most the wanted
one, which is the wanted frame itself unless the file is damaged), so they return identical frames. ``"auto"``
counts the frames each would decode, using the keyframe positions, and takes the cheaper
(`choose_strategy`): seeking wins on long videos with frequent keyframes, sequential on short clips or videos
with one keyframe.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from ..choices import STRATEGIES
from ..errors import VideoDecodeError, VideoDecodeWarning
from .decode_plan import choose_strategy, plan_seeks
from .frame_times import FrameTimes, frame_times_from_pts, frame_times_from_rate
from .orientation import Orientation
from .pyav_io import FFMPEG_ERRORS, FrameConverter, chain, demuxed_frames, first_frame_facts, open_container, translated
from .source import VideoSource

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = ["PyAVReader", "FrameStream", "VideoInfo"]


@dataclass(frozen=True)
class VideoInfo:
    """What the packet index says about a video.

    Attributes:
        name: the path, or a description of bytes / a file object.
        num_frames: exact number of frames (packets of the video stream).
        width, height: frame size in pixels as displayed (the first frame's, after the orientation below).
        fps: average frame rate, or None when the container does not say.
        rotation: degrees (counter-clockwise) the frames are rotated by to display them, from the display matrix.
        keyframes: frame indices of the keyframes (where decoding can start).
        codec: the video codec's name.
        mirrored: the display matrix also mirrors the frames (left-right, before the rotation), as players show
            them.
    """

    name: str
    num_frames: int
    width: int
    height: int
    fps: float | None
    rotation: int
    keyframes: tuple[int, ...]
    codec: str
    mirrored: bool = False

    @property
    def duration(self) -> float | None:
        """Seconds, ``num_frames / fps`` (None without a frame rate)."""
        return self.num_frames / self.fps if self.fps else None


class _SeekMiss(Exception):
    """Seeking did not land where the index said; the caller falls back to sequential decoding."""


class PyAVReader:
    """Exact frame access to one video with PyAV.

    Args:
        source: the encoded video.
        threads: FFmpeg decoder threads (0: as many as CPUs; 1 inside DataLoader workers).

    Frames are given as players show them: oriented by the full display matrix (rotation and mirror), all at the
    first frame's size (frames the decoder gives at another size, after a resolution change or damage, are
    scaled to it, with a `VideoDecodeWarning`).

    Raises:
        VideoDecodeError: the file cannot be opened, has no video stream, or no frame.
    """

    def __init__(self, source: VideoSource, *, threads: int = 0) -> None:
        self.source = source
        self.threads = threads
        self._pts: list[int] | None = None
        self._scan()

    # ------------------------------------------------------------------ index
    def _scan(self) -> None:
        container, stream = open_container(self.source)
        packets: list[tuple[int | None, int | None, bool, int | None]] = []
        first: dict[str, Any] = {}  # the first frame's facts (`first_frame_facts`)
        truncated: BaseException | None = None
        discarded = 0
        try:
            with translated(self.source, "reading"):
                self._codec = stream.codec_context.name
                self._coded_size = (stream.codec_context.width, stream.codec_context.height)
                rate = stream.average_rate or stream.guessed_rate
                self._fps = float(rate) if rate else None
                self._time_base: Fraction | None = stream.time_base
                declared = stream.frames
            try:
                for packet in container.demux(stream):
                    if packet.size == 0:
                        continue
                    if packet.is_discard:  # before an edit list's start (a stream-copied trim): not shown
                        discarded += 1
                        continue
                    packets.append((packet.pts, packet.dts, bool(packet.is_keyframe), packet.duration))
                    first_frame_facts(container, stream, packet, first)
            except FFMPEG_ERRORS as exc:  # a truncated or damaged file: keep what could be read
                truncated = exc
        finally:
            container.close()
        if not packets:
            raise VideoDecodeError(f"video {self.source.name} has a video stream but no readable frame")
        self._first_size: tuple[int, int] | None = first.get("size")
        self._orientation: Orientation | None = first.get("orientation")
        if self._first_size is None and min(self._coded_size) > 0:
            self._first_size = self._coded_size
        if truncated is not None or (declared and len(packets) + discarded < declared):
            warnings.warn(
                f"video {self.source.name} is truncated or damaged: {len(packets)} frames readable"
                + (f" of {declared - discarded} declared" if declared else "")
                + (f" ({truncated})" if truncated is not None else "")
                + "; sampling from the readable part",
                VideoDecodeWarning,
                stacklevel=4,
            )
        self.num_frames = len(packets)
        self._index(packets)

    def _index(self, packets: list[tuple[int | None, int | None, bool, int | None]]) -> None:
        pts = [p for p, _, _, _ in packets if p is not None]
        if len(pts) == len(packets) and len(set(pts)) == len(pts):
            order = sorted(range(len(pts)), key=pts.__getitem__)
            self._pts = [pts[i] for i in order]
            self._last_duration = packets[order[-1]][3]
            rank = {pts[i]: r for r, i in enumerate(order)}
            keys = [key for _, _, key, _ in packets]
            # decoding can always start at the first frame shown (an edit list may start between keyframes)
            self.keyframes = tuple(sorted({0} | {rank[p] for p, key in zip(pts, keys, strict=True) if key}))
        else:  # no usable timestamps (some raw streams): frames can only be counted, so read sequentially
            self._pts = None
            self.keyframes = (0,)

    @property
    def info(self) -> VideoInfo:
        """The video's `VideoInfo` (decodes the first frame once if the scan could not learn its orientation)."""
        if self._orientation is None or self._first_size is None:
            self.decode([0], strategy="sequential")
        assert self._first_size is not None and self._orientation is not None  # set by decoding a frame
        w, h = self._first_size
        rotation, mirrored = self._orientation
        if rotation % 180:
            w, h = h, w
        return VideoInfo(
            name=self.source.name,
            num_frames=self.num_frames,
            width=w,
            height=h,
            fps=self._fps,
            rotation=rotation,
            keyframes=self.keyframes,
            codec=self._codec,
            mirrored=mirrored,
        )

    def frame_times(self) -> FrameTimes:
        """When each frame is shown and for how long, in seconds from the first frame (from the packet index: no
        decoding). Without timestamps in the stream, frames are spaced by the container's frame rate."""
        if self._pts is None or self._time_base is None:  # timestamps without a time base say no time either
            if not self._fps:
                raise VideoDecodeError(f"video {self.source.name} has neither timestamps nor a frame rate")
            return frame_times_from_rate(self.num_frames, self._fps)
        return frame_times_from_pts(self._pts, self._time_base, self._last_duration, self._fps)

    def choose_strategy(self, indices: Sequence[int]) -> str:
        """The strategy ``"auto"`` picks for these frame indices."""
        if self._pts is None:
            return "sequential"
        return choose_strategy(indices, self.keyframes)

    # ------------------------------------------------------------------ decoding
    def decode(
        self,
        indices: Sequence[int],
        *,
        strategy: str = "auto",
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> tuple[list[Any], str]:
        """Decode frames by index.

        Args:
            indices: frame indices in ``[0, num_frames)``, any order, repeats allowed.
            strategy: ``"auto"``, ``"sequential"`` or ``"seek"``.
            transform: applied to each decoded frame (uint8 RGB ndarray [H, W, 3], rotation applied) as soon as it
                is decoded, so that only transformed frames are kept (bounded memory for huge frames). Default:
                convert to a uint8 tensor [H, W, 3].

        Returns:
            (one transformed frame per index, in the order of ``indices``; the strategy that was used).
        """
        indices = [int(i) for i in indices]
        stream = self.stream(indices, strategy=strategy, transform=transform)
        got = dict(stream)
        return [got[i] for i in indices], stream.strategy

    def stream(
        self,
        indices: Sequence[int],
        *,
        strategy: str = "auto",
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> FrameStream:
        """Decode frames by index lazily: an iterator of ``(index, frame)`` over the distinct indices in increasing
        order, each decoded once and handed over as soon as it is decoded (memory stays at one frame however long
        the video). Arguments as in `decode`; the returned `FrameStream`'s ``strategy`` says which was used.
        """
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        wanted = sorted({int(i) for i in indices})
        if not wanted:
            raise ValueError("no frame indices to decode")
        bad = [i for i in wanted if not 0 <= i < self.num_frames]
        if bad:
            raise ValueError(f"frame indices {bad[:5]} are outside [0, {self.num_frames}) for video {self.source.name}")
        if transform is None:
            import torch

            transform = torch.from_numpy
        used = self.choose_strategy(wanted) if strategy == "auto" else strategy
        if used == "seek" and self._pts is None:
            used = "sequential"  # nothing to seek by
        return FrameStream(self, wanted, used, self._converter(transform))

    def _converter(self, transform: Callable[[np.ndarray], Any]) -> _Converter:
        return _Convert(self, FrameConverter(self._first_size, self._orientation), transform)

    def _index_pts(self) -> list[int]:
        """The frames' pts in presentation order, which decoding by pts and seeking need (both are chosen only when
        the index has them; without, a `_SeekMiss` sends the caller to decoding by count)."""
        if self._pts is None:
            raise _SeekMiss
        return self._pts

    def _decode_sequential(self, wanted: list[int], convert: _Converter) -> Iterator[tuple[int, Any]]:
        container, stream = open_container(self.source)
        try:
            stream.codec_context.thread_count = self.threads
            stream.codec_context.thread_type = "AUTO"  # frame threads help when every frame is decoded
            if self._pts is not None:
                done: list[int] = []
                try:
                    for w, frame in self._select_by_pts(demuxed_frames(container, stream), wanted, convert):
                        done.append(w)
                        yield w, frame
                    return
                except _SeekMiss:  # a decoded frame without pts: count frames for the rest instead
                    container.close()
                    container, stream = open_container(self.source)
                    wanted = wanted[len(done) :]
            yield from self._select_by_count(demuxed_frames(container, stream), wanted, convert)
        finally:
            container.close()

    def _select_by_count(
        self, frames: Iterator[VideoFrame], wanted: list[int], convert: _Converter
    ) -> Iterator[tuple[int, Any]]:
        it, last = 0, None
        for count, frame in enumerate(frames):
            last = frame
            if count == wanted[it]:
                yield wanted[it], convert(frame)
                it += 1
                if it == len(wanted):
                    return
        yield from self._fill_missing(wanted[it:], last, convert)

    def _select_by_pts(
        self, frames: Iterator[VideoFrame], wanted: list[int], convert: _Converter
    ) -> Iterator[tuple[int, Any]]:
        pts = self._index_pts()
        targets = [pts[i] for i in wanted]
        it, prev, prev_converted = 0, None, None
        for frame in frames:
            if frame.pts is None:
                raise _SeekMiss
            while it < len(wanted) and targets[it] < frame.pts:  # wanted frame never came out: take the one before
                if prev_converted is None:
                    prev_converted = convert(prev if prev is not None else frame)
                yield wanted[it], prev_converted
                it += 1
                self._missing += 1
            if it < len(wanted) and targets[it] == frame.pts:
                yield wanted[it], convert(frame)
                it += 1
            if it == len(wanted):
                return
            prev, prev_converted = frame, None
        yield from self._fill_missing(wanted[it:], prev, convert)

    def _fill_missing(self, rest: list[int], last: VideoFrame | None, convert: _Converter) -> Iterator[tuple[int, Any]]:
        if not rest:
            return
        if last is None:
            raise VideoDecodeError(f"video {self.source.name}: no frame could be decoded (damaged stream)")
        converted = convert(last)
        self._missing += len(rest)
        for w in rest:
            yield w, converted

    def _decode_seek(self, wanted: list[int], convert: _Converter) -> Iterator[tuple[int, Any]]:
        pts = self._index_pts()
        container, stream = open_container(self.source)
        try:
            stream.codec_context.thread_count = self.threads
            stream.codec_context.thread_type = "SLICE"  # frame threads would re-fill their pipeline after every seek
            frames: Iterator[VideoFrame] | None = None
            for w, (seek, _) in zip(wanted, plan_seeks(wanted, self.keyframes), strict=True):
                target = pts[w]
                if seek or frames is None:
                    ki = max(0, bisect.bisect_right(self.keyframes, w) - 1)
                    frames = self._seek(container, stream, ki, target)
                frame, prev = None, None
                for frame in frames:
                    if frame.pts is None:
                        raise _SeekMiss
                    if frame.pts >= target:
                        break
                    prev = frame
                else:
                    frame = None
                if frame is not None and frame.pts == target:
                    yield w, convert(frame)
                elif prev is not None:  # the wanted pts is missing from the stream: same rule as sequential
                    self._missing += 1
                    yield w, convert(prev)
                else:
                    raise _SeekMiss
        finally:
            container.close()

    def _seek(self, container: InputContainer, stream: VideoStream, ki: int, target: int) -> Iterator[VideoFrame]:
        """Seek to keyframe ``keyframes[ki]`` and return the frame iterator; retry one keyframe earlier if the
        demuxer lands after the target (its index may hold decode, not presentation, timestamps)."""
        pts = self._index_pts()
        for k in range(ki, max(-1, ki - 3), -1):
            # FFmpeg's demuxers seek to the keyframe at or before a presentation timestamp: the keyframe's own pts
            try:
                container.seek(pts[self.keyframes[k]], stream=stream, backward=True, any_frame=False)
            except FFMPEG_ERRORS:  # the demuxer cannot seek there (damaged index): decode sequentially instead
                raise _SeekMiss from None
            frames = demuxed_frames(container, stream)
            first = next(frames, None)
            if first is not None and first.pts is not None and first.pts <= target:
                return chain(first, frames)
        raise _SeekMiss

    _missing = 0  # frames replaced by their predecessor because the stream lacked them (damaged files)
    _last_duration: int | None = None  # the last frame's packet duration (time-base units), when the file says


_Converter = Callable[["VideoFrame"], Any]  # a decoded frame -> the caller's transform of its RGB image


class _Convert:
    """A decoded frame -> ``transform`` of its uint8 RGB image as displayed; ``frames`` is the `FrameConverter`,
    which counts the frames scaled to the first one's size. The first frame converted tells the reader its size and
    orientation when the packet scan could not."""

    def __init__(self, reader: PyAVReader, frames: FrameConverter, transform: Callable[[np.ndarray], Any]) -> None:
        self.reader, self.frames, self.transform = reader, frames, transform

    def __call__(self, frame: VideoFrame) -> Any:
        image = self.frames(frame)
        reader = self.reader
        if reader._orientation is None or reader._first_size is None:  # learnt from the first frame decoded
            reader._orientation, reader._first_size = self.frames.orientation, self.frames.size
        return self.transform(image)


class FrameStream:
    """``(index, frame)`` pairs of `PyAVReader.stream`, decoded on demand; ``strategy`` is the one used (a seek that
    misses falls back to sequential decoding for the frames not yet handed over). FFmpeg's errors become
    `VideoDecodeError` naming the file (a caller's transform raising propagates as it is). When the iteration
    ends, one `VideoDecodeWarning` says what was not as stored: wanted frames the damaged stream lacks (replaced by
    their predecessor), frames decoded at another size (scaled to the first frame's)."""

    def __init__(self, reader: PyAVReader, wanted: list[int], strategy: str, convert: Callable[[Any], Any]) -> None:
        self.reader, self.wanted, self.strategy, self._convert = reader, wanted, strategy, convert

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        reader, done = self.reader, 0
        missing_before = reader._missing
        with translated(reader.source):
            if self.strategy == "seek":
                try:
                    for item in reader._decode_seek(self.wanted, self._convert):
                        done += 1
                        yield item
                except _SeekMiss:
                    self.strategy = "sequential"
            if self.strategy == "sequential":
                yield from reader._decode_sequential(self.wanted[done:], self._convert)
        problems = []
        if reader._missing > missing_before:
            problems.append(
                f"{reader._missing - missing_before} wanted frames are missing from the stream (damaged "
                "file); their nearest earlier frame was used"
            )
        frames = getattr(self._convert, "frames", None)
        if frames is not None and frames.resized:
            sizes = ", ".join(f"{w}x{h}" for w, h in sorted(frames.sizes)[:4])
            problems.append(
                f"{frames.resized} frames were decoded at another size ({sizes}) than the first frame's "
                f"{frames.size[0]}x{frames.size[1]} (a resolution change or damage) and were scaled to it"
            )
        if problems:
            warnings.warn(f"video {reader.source.name}: " + "; ".join(problems), VideoDecodeWarning, stacklevel=3)
