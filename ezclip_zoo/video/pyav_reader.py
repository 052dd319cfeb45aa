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
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from ..errors import VideoDecodeError, VideoDecodeWarning
from .decode_plan import STRATEGIES, choose_strategy, plan_seeks
from .source import VideoSource

__all__ = ["PyAVReader", "VideoInfo"]

@dataclass(frozen=True)
class VideoInfo:
    """What the packet index says about a video.

    Attributes:
        name: the path, or a description of bytes / a file object.
        num_frames: exact number of frames (packets of the video stream).
        width, height: frame size in pixels as displayed (after the rotation below).
        fps: average frame rate, or None when the container does not say.
        rotation: degrees (counter-clockwise) the frames are rotated by to display them, from the display matrix.
        keyframes: frame indices of the keyframes (where decoding can start).
        codec: the video codec's name.
    """

    name: str
    num_frames: int
    width: int
    height: int
    fps: Optional[float]
    rotation: int
    keyframes: tuple[int, ...]
    codec: str

    @property
    def duration(self) -> Optional[float]:
        """Seconds, ``num_frames / fps`` (None without a frame rate)."""
        return self.num_frames / self.fps if self.fps else None


class _SeekMiss(Exception):
    """Seeking did not land where the index said; the caller falls back to sequential decoding."""


def _open_container(source: VideoSource):
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


class PyAVReader:
    """Exact frame access to one video with PyAV.

    Args:
        source: the encoded video.
        threads: FFmpeg decoder threads (0: as many as CPUs; 1 inside DataLoader workers).

    Raises:
        VideoDecodeError: the file cannot be opened, has no video stream, or no frame.
    """

    def __init__(self, source: VideoSource, *, threads: int = 0) -> None:
        self.source = source
        self.threads = threads
        self._pts: Optional[list[int]] = None
        self._scan()

    # ------------------------------------------------------------------ index
    def _scan(self) -> None:
        container, stream = _open_container(self.source)
        packets: list[tuple[Optional[int], Optional[int], bool]] = []
        truncated = None
        try:
            self._codec = stream.codec_context.name
            self._coded_size = (stream.codec_context.width, stream.codec_context.height)
            rate = stream.average_rate or stream.guessed_rate
            self._fps = float(rate) if rate else None
            self._time_base: Optional[Fraction] = stream.time_base
            declared = stream.frames
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.is_discard:
                        continue
                    packets.append((packet.pts, packet.dts, bool(packet.is_keyframe)))
            except Exception as exc:  # a truncated or damaged file: keep what could be read
                truncated = exc
        finally:
            container.close()
        if not packets:
            raise VideoDecodeError(f"video {self.source.name} has a video stream but no readable frame")
        if truncated is not None or (declared and len(packets) < declared):
            warnings.warn(
                f"video {self.source.name} is truncated or damaged: {len(packets)} frames readable"
                + (f" of {declared} declared" if declared else "")
                + (f" ({truncated})" if truncated is not None else "")
                + "; sampling from the readable part",
                VideoDecodeWarning,
                stacklevel=4,
            )
        self.num_frames = len(packets)
        pts = [p for p, _, _ in packets]
        if all(p is not None for p in pts) and len(set(pts)) == len(pts):
            order = sorted(range(len(pts)), key=pts.__getitem__)
            self._pts = [pts[i] for i in order]
            rank = {pts[i]: r for r, i in enumerate(order)}
            keyframes = []
            for p, _, key in packets:
                if key:
                    keyframes.append(rank[p])
            self.keyframes = tuple(sorted(keyframes)) or (0,)
        else:  # no usable timestamps (some raw streams): frames can only be counted, so read sequentially
            self._pts = None
            self.keyframes = (0,)
        self._rotation: Optional[int] = None

    @property
    def info(self) -> VideoInfo:
        """The video's `VideoInfo` (decodes the first frame once to learn its display rotation)."""
        if self._rotation is None:
            self.decode([0], strategy="sequential")
        w, h = self._coded_size
        if self._rotation % 180:
            w, h = h, w
        return VideoInfo(
            name=self.source.name,
            num_frames=self.num_frames,
            width=w,
            height=h,
            fps=self._fps,
            rotation=self._rotation,
            keyframes=self.keyframes,
            codec=self._codec,
        )

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
        transform: Optional[Callable[[np.ndarray], Any]] = None,
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
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        indices = [int(i) for i in indices]
        if not indices:
            raise ValueError("no frame indices to decode")
        bad = [i for i in indices if not 0 <= i < self.num_frames]
        if bad:
            raise ValueError(f"frame indices {bad[:5]} are outside [0, {self.num_frames}) for video {self.source.name}")
        if transform is None:
            import torch

            transform = torch.from_numpy
        wanted = sorted(set(indices))
        used = self.choose_strategy(wanted) if strategy == "auto" else strategy
        if used == "seek" and self._pts is None:
            used = "sequential"  # nothing to seek by
        convert = self._converter(transform)
        missing_before = self._missing
        try:
            if used == "seek":
                try:
                    got = self._decode_seek(wanted, convert)
                except _SeekMiss:
                    used = "sequential"
                    got = self._decode_sequential(wanted, convert)
            else:
                got = self._decode_sequential(wanted, convert)
        except VideoDecodeError:
            raise
        except Exception as exc:
            raise VideoDecodeError(f"decoding video {self.source.name} failed: {type(exc).__name__}: {exc}") from exc
        if self._missing > missing_before:
            warnings.warn(
                f"video {self.source.name}: {self._missing - missing_before} wanted frames are missing from the "
                "stream (damaged file); their nearest earlier frame was used",
                VideoDecodeWarning,
                stacklevel=2,
            )
        return [got[i] for i in indices], used

    def _converter(self, transform: Callable[[np.ndarray], Any]) -> Callable[[Any], Any]:
        def convert(frame) -> Any:
            rotation = int(round(frame.rotation or 0))
            if self._rotation is None:
                self._rotation = rotation % 360
            image = _to_rgb(frame)
            k = (rotation // 90) % 4
            if k:
                image = np.ascontiguousarray(np.rot90(image, k))
            return transform(image)

        return convert

    def _frames(self, container, stream) -> Iterator[Any]:
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

    def _decode_sequential(self, wanted: list[int], convert) -> dict[int, Any]:
        container, stream = _open_container(self.source)
        try:
            stream.codec_context.thread_count = self.threads
            stream.codec_context.thread_type = "AUTO"  # frame threads help when every frame is decoded
            if self._pts is not None:
                try:
                    return self._select_by_pts(self._frames(container, stream), wanted, convert)
                except _SeekMiss:  # a decoded frame without pts: fall back to counting
                    container.close()
                    container, stream = _open_container(self.source)
            return self._select_by_count(self._frames(container, stream), wanted, convert)
        finally:
            container.close()

    def _select_by_count(self, frames: Iterator[Any], wanted: list[int], convert) -> dict[int, Any]:
        out: dict[int, Any] = {}
        it, last = 0, None
        for count, frame in enumerate(frames):
            last = frame
            if count == wanted[it]:
                out[wanted[it]] = convert(frame)
                it += 1
                if it == len(wanted):
                    return out
        return self._fill_missing(out, wanted, last, convert)

    def _select_by_pts(self, frames: Iterator[Any], wanted: list[int], convert) -> dict[int, Any]:
        out: dict[int, Any] = {}
        targets = [self._pts[i] for i in wanted]
        it, prev, prev_converted = 0, None, None
        for frame in frames:
            if frame.pts is None:
                raise _SeekMiss
            while it < len(wanted) and targets[it] < frame.pts:  # wanted frame never came out: take the one before
                if prev_converted is None:
                    prev_converted = convert(prev if prev is not None else frame)
                out[wanted[it]] = prev_converted
                it += 1
                self._missing += 1
            if it < len(wanted) and targets[it] == frame.pts:
                out[wanted[it]] = convert(frame)
                it += 1
            if it == len(wanted):
                return out
            prev, prev_converted = frame, None
        return self._fill_missing(out, wanted, prev, convert)

    def _fill_missing(self, out: dict[int, Any], wanted: list[int], last, convert) -> dict[int, Any]:
        if last is None:
            raise VideoDecodeError(f"video {self.source.name}: no frame could be decoded (damaged stream)")
        rest = [w for w in wanted if w not in out]
        if rest:
            converted = convert(last)
            for w in rest:
                out[w] = converted
            self._missing += len(rest)
        return out

    def _decode_seek(self, wanted: list[int], convert) -> dict[int, Any]:
        container, stream = _open_container(self.source)
        out: dict[int, Any] = {}
        try:
            stream.codec_context.thread_count = self.threads
            stream.codec_context.thread_type = "SLICE"  # frame threads would re-fill their pipeline after every seek
            frames: Optional[Iterator[Any]] = None
            for w, (seek, _) in zip(wanted, plan_seeks(wanted, self.keyframes)):
                target = self._pts[w]
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
                    out[w] = convert(frame)
                elif prev is not None:  # the wanted pts is missing from the stream: same rule as sequential
                    out[w] = convert(prev)
                    self._missing += 1
                else:
                    raise _SeekMiss
        finally:
            container.close()
        return out

    def _seek(self, container, stream, ki: int, target: int) -> Iterator[Any]:
        """Seek to keyframe ``keyframes[ki]`` and return the frame iterator; retry one keyframe earlier if the
        demuxer lands after the target (its index may hold decode, not presentation, timestamps)."""
        for k in range(ki, max(-1, ki - 3), -1):
            # FFmpeg's demuxers seek to the keyframe at or before a presentation timestamp: the keyframe's own pts
            container.seek(self._pts[self.keyframes[k]], stream=stream, backward=True, any_frame=False)
            frames = self._frames(container, stream)
            first = next(frames, None)
            if first is not None and first.pts is not None and first.pts <= target:
                return _chain(first, frames)
        raise _SeekMiss

    _missing = 0  # frames replaced by their predecessor because the stream lacked them (damaged files)


_REFORMAT_THREADS = True  # PyAV >= 16 takes `threads` (and defaults to a pool per call, which is slow)


def _to_rgb(frame) -> np.ndarray:
    """uint8 RGB [H, W, 3] of a decoded frame, converted with one swscale thread: a thread pool per frame costs
    far more than it saves at video frame sizes."""
    global _REFORMAT_THREADS
    if _REFORMAT_THREADS:
        try:
            return frame.to_ndarray(format="rgb24", threads=1)
        except TypeError:
            _REFORMAT_THREADS = False
    return frame.to_ndarray(format="rgb24")


def _chain(first, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
