"""Where live frames come from, opened with PyAV: a file read at real-time pace, a file still being written, TCP
and UDP MPEG-TS, HTTP(S) progressive, HLS playlists, RTSP (pulled over TCP, or listened for), RTMP, SRT, v4l2
cameras (``/dev/videoN``), stdin.

`describe_source` says what a source string is and how it is read (a `LiveSource`); `open_container` opens it,
through `av_open` (the one call that reaches FFmpeg, substituted by the tests where no camera exists). Reading and
reconnecting live in `ezclip_zoo.live.reconnect`.
"""

from __future__ import annotations

import io
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import VideoNotFoundError
from .reconnect_policy import ReconnectPolicy

if TYPE_CHECKING:
    from av.container import InputContainer

__all__ = [
    "LiveSource",
    "describe_source",
    "open_container",
    "av_open",
    "FollowedFile",
    "NETWORK_SCHEMES",
    "KINDS",
]

NETWORK_SCHEMES = ("tcp", "udp", "rtp", "rtsp", "rtsps", "rtmp", "rtmps", "srt")
HTTP_SCHEMES = ("http", "https")
KINDS = ("file", "follow", "stdin", "http", "hls", "network", "camera")
_CAMERA = re.compile(r"^(?:v4l2://)?(/dev/video\d+)$")
_LISTEN_VALUES = ("1", "true", "yes")


@dataclass(frozen=True)
class LiveSource:
    """A live source and how it is read. It is an ``os.PathLike`` (its ``target``), so it can be passed to `watch`
    wherever a path or URL can: ``watch(model, describe_source("rtsp://cam/1", reconnect=ReconnectPolicy(...)), ...)``.

    Attributes:
        target: the path or URL given to FFmpeg (``"-"`` for stdin; a ``listen=1`` query of an RTSP or RTMP URL is
            moved into ``options``).
        kind: one of `KINDS`: ``"file"`` (read at ``pace``), ``"follow"`` (a file still being written), ``"stdin"``,
            ``"http"`` (progressive download), ``"hls"`` (an ``.m3u8`` playlist), ``"network"`` (TCP, UDP, RTSP,
            RTMP, SRT) or ``"camera"`` (a v4l2 device).
        pace: stream seconds per wall-clock second the frames are released at (1 = real time); None: as they come.
        reconnect: open the source again when it drops or stalls (network sources, HLS, HTTP, cameras).
        format: the FFmpeg input format forced (``"v4l2"`` for cameras), or None to probe.
        options: FFmpeg options given when opening (``rtsp_transport``, ``video_size``, ``framerate``, ...).
        policy: how a dropped source is reconnected and when it counts as stalled (`ReconnectPolicy`).
    """

    target: str
    kind: str
    pace: float | None
    reconnect: bool
    format: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)

    @property
    def name(self) -> str:
        """How the source is named in results and messages."""
        return "stdin" if self.kind == "stdin" else self.target

    @property
    def listens(self) -> bool:
        """Whether opening waits for a publisher to connect (``?listen=1`` URLs)."""
        opts = dict(self.options)
        return "listen=1" in self.target or opts.get("rtsp_flags") == "listen" or opts.get("listen") == "1"

    def __fspath__(self) -> str:
        return self.target


def _check_pace(pace: float | None) -> float | None:
    if pace is None or (isinstance(pace, (int, float)) and not isinstance(pace, bool) and math.isinf(pace)):
        return None
    if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not pace > 0:
        raise ValueError(f"pace must be a positive factor (1 = real time), math.inf or None, got {pace!r}")
    return float(pace)


def _without_listen(url: str) -> tuple[str, bool]:
    """``url`` without a ``listen=1`` query parameter, and whether it had one (RTSP and RTMP take it as an option)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    listen = any(k == "listen" and v.lower() in _LISTEN_VALUES for k, v in query)
    rest = [(k, v) for k, v in query if k != "listen"]
    return urlunsplit(parts._replace(query=urlencode(rest))), listen


def _network_options(scheme: str, target: str) -> tuple[str, dict[str, str]]:
    if scheme in ("rtsp", "rtsps"):
        target, listen = _without_listen(target)
        return target, {"rtsp_transport": "tcp", **({"rtsp_flags": "listen"} if listen else {})}
    if scheme in ("rtmp", "rtmps"):
        target, listen = _without_listen(target)
        return target, {"listen": "1"} if listen else {}
    return target, {}


def describe_source(
    source: str | os.PathLike,
    *,
    pace: float | None = None,
    follow: bool = False,
    options: Mapping[str, str] | None = None,
    reconnect: ReconnectPolicy | None = None,
) -> LiveSource:
    """What ``source`` is: ``"-"`` (stdin), a URL (``tcp://``, ``udp://``, ``http(s)://`` (``.m3u8``: HLS),
    ``rtsp://`` (pulled over TCP; ``?listen=1`` to wait for a publisher), ``rtmp://``, ``srt://``), a v4l2 camera
    (``/dev/videoN``) or a file path; ``pace`` None reads files and progressive HTTP at real time (1) and the others
    as they come. ``options`` are FFmpeg options added to the source's own (e.g. ``{"video_size": "640x480",
    "framerate": "30"}`` for a camera); ``reconnect`` how a dropped source is reopened (default `ReconnectPolicy()`).

    Raises:
        VideoNotFoundError: a path that does not exist (and ``follow`` is False).
        ValueError: a bad ``pace``, an unknown scheme, or ``follow`` with something that is not a file.
    """
    if isinstance(source, LiveSource):
        return source
    target = os.fspath(source)
    scheme = target.split("://", 1)[0].lower() if "://" in target else ""
    extra: dict[str, str] = {}
    fmt = None
    camera = _CAMERA.match(target)
    if target == "-":
        kind, default = "stdin", None
    elif camera:
        target, kind, default, fmt = camera.group(1), "camera", None, "v4l2"
    elif scheme in NETWORK_SCHEMES:
        kind, default = "network", None
        target, extra = _network_options(scheme, target)
    elif scheme in HTTP_SCHEMES:
        hls = urlsplit(target).path.lower().endswith(".m3u8")
        kind, default = ("hls", None) if hls else ("http", 1.0)
    elif scheme:
        raise ValueError(
            f"source {target!r}: unknown scheme {scheme!r}; watch reads a file path, '-' (stdin), a camera "
            f"(/dev/videoN) or a {', '.join(NETWORK_SCHEMES + HTTP_SCHEMES)} URL"
        )
    elif follow:
        kind, default = "follow", None
    else:
        if not os.path.isfile(target):
            raise VideoNotFoundError(
                f"video file {target!r} does not exist (a URL needs its scheme, e.g. tcp://127.0.0.1:9000; a camera "
                "is /dev/videoN)"
            )
        kind, default = "file", 1.0
    if follow and kind != "follow":
        raise ValueError(f"follow=True is for a file still being written, not {target!r}")
    chosen = default if pace is None else _check_pace(pace)
    merged = {**extra, **{str(k): str(v) for k, v in (options or {}).items()}}
    policy = reconnect if reconnect is not None else ReconnectPolicy()
    if not isinstance(policy, ReconnectPolicy):
        raise TypeError(f"reconnect must be a ReconnectPolicy, got {type(policy).__name__}")
    live = kind in ("network", "http", "hls", "camera")
    return LiveSource(target, kind, chosen, reconnect=live, format=fmt, options=tuple(merged.items()), policy=policy)


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


def av_open(file: Any, **kwargs: Any) -> InputContainer:
    """``av.open(file, mode="r", **kwargs)``: the one call through which live sources reach FFmpeg (a test
    substitutes it to check the camera path, since no camera exists on the test machines)."""
    import av

    return av.open(file, mode="r", **kwargs)


def open_container(
    source: LiveSource, *, open_timeout_s: float, read_timeout_s: float, stop: Callable[[], bool]
) -> InputContainer:
    """Open ``source`` once: waiting at most ``open_timeout_s`` seconds for it to answer (or for a publisher to
    connect, when it listens), and then at most ``read_timeout_s`` for each read (a stalled source raises)."""
    import sys

    if source.kind == "stdin":
        return av_open(sys.stdin.buffer)
    if source.kind == "follow":
        return av_open(FollowedFile(source.target, open_timeout_s, stop))
    if source.kind == "file":
        return av_open(source.target, metadata_errors="ignore")
    kwargs: dict[str, Any] = {"timeout": (min(max(open_timeout_s, 0.05), 86400.0), read_timeout_s)}
    options = dict(source.options)
    if options.get("rtsp_flags") == "listen" and "listen_timeout" not in options:  # FFmpeg's default overflows
        options["listen_timeout"] = str(max(1, math.ceil(min(open_timeout_s, 86400.0))))
    if options:
        kwargs["options"] = options
    if source.format is not None:
        kwargs["format"] = source.format
    return av_open(source.target, **kwargs)
