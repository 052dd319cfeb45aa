"""Where live frames come from, opened with PyAV: a file read at real-time pace, a file still being written, TCP
and UDP MPEG-TS, HTTP(S) progressive, stdin, or any URL FFmpeg reads (RTSP, RTMP, SRT).

`describe_source` says what a source string is and how it is read; `decoded_frames` yields its decoded frames
with their arrival times, reconnecting a network source that drops (until ``timeout_s`` passes without a frame).
"""

from __future__ import annotations

import io
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import VideoDecodeError, VideoNotFoundError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame

__all__ = ["LiveSource", "describe_source", "decoded_frames", "FollowedFile", "NETWORK_SCHEMES"]

NETWORK_SCHEMES = ("tcp", "udp", "rtp", "rtsp", "rtsps", "rtmp", "rtmps", "srt")
HTTP_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class LiveSource:
    """A live source and how it is read.

    Attributes:
        target: the path or URL (``"-"`` for stdin).
        kind: ``"file"`` (read at ``pace``), ``"follow"`` (a file still being written: read as it grows),
            ``"stdin"``, ``"http"`` (progressive download) or ``"network"`` (TCP, UDP, RTSP, ...).
        pace: stream seconds per wall-clock second the frames are released at (1 = real time); None: as they come.
        reconnect: open the source again when it ends or drops (network sources).
    """

    target: str
    kind: str
    pace: float | None
    reconnect: bool

    @property
    def name(self) -> str:
        """How the source is named in results and messages."""
        return "stdin" if self.kind == "stdin" else self.target


def _check_pace(pace: float | None) -> float | None:
    if pace is None or (isinstance(pace, (int, float)) and not isinstance(pace, bool) and math.isinf(pace)):
        return None
    if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not pace > 0:
        raise ValueError(f"pace must be a positive factor (1 = real time), math.inf or None, got {pace!r}")
    return float(pace)


def describe_source(source: str | os.PathLike, *, pace: float | None = None, follow: bool = False) -> LiveSource:
    """What ``source`` is: ``"-"`` (stdin), a URL (``tcp://``, ``udp://``, ``http(s)://``, ``rtsp://`` ...) or a
    file path; ``pace`` None reads files and HTTP at real time (1) and the others as they come.

    Raises:
        VideoNotFoundError: a path that does not exist (and ``follow`` is False).
        ValueError: a bad ``pace``, or ``follow`` with something that is not a file.
    """
    target = os.fspath(source)
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    if target == "-":
        kind, default = "stdin", None
    elif scheme in NETWORK_SCHEMES:
        kind, default = "network", None
    elif scheme in HTTP_SCHEMES:
        kind, default = "http", 1.0
    elif scheme:
        raise ValueError(
            f"source {target!r}: unknown scheme {scheme!r}; watch reads a file path, '-' (stdin) or a "
            f"{', '.join(NETWORK_SCHEMES + HTTP_SCHEMES)} URL"
        )
    elif follow:
        kind, default = "follow", None
    else:
        if not os.path.isfile(target):
            raise VideoNotFoundError(
                f"video file {target!r} does not exist (a URL needs its scheme, e.g. tcp://127.0.0.1:9000)"
            )
        kind, default = "file", 1.0
    if follow and kind not in ("follow",):
        raise ValueError(f"follow=True is for a file still being written, not {target!r}")
    chosen = default if pace is None else _check_pace(pace)
    return LiveSource(target, kind, chosen, reconnect=kind in ("network", "http"))


class FollowedFile(io.RawIOBase):
    """A file read as it grows (``tail -f``): ``read`` waits for more bytes, and reports the end once the file has
    not grown for ``idle_s`` seconds or ``stop()`` returns True."""

    def __init__(self, path: str, idle_s: float, stop: Callable[[], bool], poll_s: float = 0.05) -> None:
        deadline = time.monotonic() + idle_s
        while not os.path.exists(path):
            if stop() or time.monotonic() > deadline:
                raise VideoNotFoundError(f"followed file {path!r} did not appear within {idle_s:g} s")
            time.sleep(poll_s)
        self._file: io.BufferedReader = open(path, "rb")  # noqa: SIM115 (closed by close())
        self.idle_s, self.stop, self.poll_s = idle_s, stop, poll_s

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        last_growth = time.monotonic()
        while True:
            count = self._file.readinto(buffer)
            if count:
                return count
            if self.stop() or time.monotonic() - last_growth > self.idle_s:
                return 0
            time.sleep(self.poll_s)

    def close(self) -> None:
        self._file.close()
        super().close()


def _open(source: LiveSource, timeout_s: float, stop: Callable[[], bool]) -> InputContainer:
    import av

    if source.kind == "stdin":
        return av.open(sys.stdin.buffer, mode="r")
    if source.kind == "follow":
        return av.open(FollowedFile(source.target, timeout_s, stop), mode="r")
    if source.kind == "file":
        return av.open(source.target, mode="r", metadata_errors="ignore")
    # network: a bounded wait to open, then a short read timeout so that a stop is noticed
    return av.open(source.target, mode="r", timeout=(timeout_s, min(1.0, timeout_s)))


def _frames_once(container: InputContainer, stop: Callable[[], bool]) -> Iterator[tuple[VideoFrame, float]]:
    from ..video.pyav_io import demuxed_frames

    if not container.streams.video:
        raise VideoDecodeError("the source holds no video stream")
    stream = container.streams.video[0]
    for frame in demuxed_frames(container, stream):
        yield frame, time.monotonic()
        if stop():
            return


def decoded_frames(
    source: LiveSource, *, timeout_s: float, stop: Callable[[], bool], on_restart: Callable[[], None]
) -> Iterator[tuple[VideoFrame, float]]:
    """Decoded frames of ``source`` and their arrival times (``time.monotonic()``), until it ends, ``stop()``
    returns True, or (reconnecting sources) nothing arrives for ``timeout_s`` seconds; ``on_restart`` is called
    before the frames of a reconnection.

    Raises:
        VideoDecodeError: the source cannot be opened at all (the message names it and the problem).
    """
    from ..video.pyav_io import FFMPEG_ERRORS

    last_frame = time.monotonic()
    opened = False
    while not stop():
        try:
            container = _open(source, timeout_s, stop)
        except FFMPEG_ERRORS + (OSError,) as exc:
            if not opened and not source.reconnect:
                raise VideoDecodeError(f"cannot open live source {source.name}: {type(exc).__name__}: {exc}") from exc
            if time.monotonic() - last_frame > timeout_s:
                if not opened:
                    raise VideoDecodeError(
                        f"cannot open live source {source.name} within {timeout_s:g} s: {exc} (is the publisher "
                        "running? raise timeout_s to wait longer)"
                    ) from exc
                return
            time.sleep(0.1)
            continue
        if opened:
            on_restart()
        opened = True
        try:
            for frame, arrival in _frames_once(container, stop):
                last_frame = arrival
                yield frame, arrival
        except FFMPEG_ERRORS:
            pass  # a dropped connection or a read timeout: reconnect below if the source allows it
        finally:
            container.close()
        if not source.reconnect or time.monotonic() - last_frame > timeout_s:
            return
