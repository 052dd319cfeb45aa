"""Reading a live source frame by frame, and surviving its faults: a source that drops (its connection closes or
fails) or stalls (no frame for ``ReconnectPolicy.stall_s``) is opened again with back-off, and the reader is told
where the stream was interrupted (a `DROPPED` marker) so that it can report one gap per outage; a source that never
opens fails within ``timeout_s`` with a message naming it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import VideoDecodeError
from .sources import LiveSource, open_container

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame

__all__ = ["decoded_frames", "ConnectionStats", "DROPPED"]

DROPPED = None  # yielded in place of a frame: the connection dropped or stalled, a reconnection follows


@dataclass
class ConnectionStats:
    """Counters of a source's connections: ``opened`` (successful opens), ``failed`` (attempts that failed),
    ``drops`` (connections that delivered frames and then dropped or stalled)."""

    opened: int = 0
    failed: int = 0
    drops: int = 0


def _frames_once(container: InputContainer, stop: Callable[[], bool]) -> Iterator[tuple[VideoFrame, float]]:
    from ..video.pyav_io import demuxed_frames

    if not container.streams.video:
        raise VideoDecodeError("the source holds no video stream")
    stream = container.streams.video[0]
    for frame in demuxed_frames(container, stream):
        yield frame, time.monotonic()
        if stop():
            return


def _never_opened(source: LiveSource, timeout_s: float, exc: BaseException | None) -> VideoDecodeError:
    why = f"{type(exc).__name__}: {exc}" if exc is not None else "no frame arrived"
    hint = "is the publisher running and the URL right?" if not source.listens else "did a publisher connect?"
    return VideoDecodeError(
        f"cannot open live source {source.name} within {timeout_s:g} s ({why}); {hint} Raise timeout_s "
        "(--timeout) to wait longer"
    )


def decoded_frames(
    source: LiveSource,
    *,
    timeout_s: float,
    stopping: threading.Event,
    on_restart: Callable[[], None],
    stats: ConnectionStats | None = None,
) -> Iterator[tuple[VideoFrame | None, float]]:
    """Decoded frames of ``source`` with their arrival times (``time.monotonic()``), until it ends, ``stopping`` is
    set, or (reconnecting sources) no frame has arrived for ``timeout_s`` seconds. When a connection that delivered
    frames drops or stalls, ``(DROPPED, time)`` is yielded once, then the source is reopened with the back-off of
    ``source.policy``; ``on_restart`` is called before the first frame of each reconnection.

    Raises:
        VideoDecodeError: the source never delivered a frame within ``timeout_s`` (or, for files and stdin, cannot
            be opened): the message names it and the problem.
    """
    from ..video.pyav_io import FFMPEG_ERRORS

    policy, stats = source.policy, stats if stats is not None else ConnectionStats()
    last_frame = time.monotonic()
    wait, delivered, error = policy.backoff_s, False, None
    while not stopping.is_set():
        remaining = timeout_s - (time.monotonic() - last_frame)
        if remaining <= 0 and stats.opened + stats.failed > 0:
            if not delivered:
                raise _never_opened(source, timeout_s, error)
            return
        try:
            container = open_container(
                source, open_timeout_s=remaining, read_timeout_s=policy.stall_s, stop=stopping.is_set
            )
        except FFMPEG_ERRORS + (OSError,) as exc:
            stats.failed, error = stats.failed + 1, exc
            if not source.reconnect:
                raise VideoDecodeError(f"cannot open live source {source.name}: {type(exc).__name__}: {exc}") from exc
            if stopping.wait(min(wait, max(timeout_s - (time.monotonic() - last_frame), 0.0))):
                return
            wait = min(wait * 2, policy.backoff_max_s)
            continue
        stats.opened += 1
        got = False
        try:
            for frame, arrival in _frames_once(container, stopping.is_set):
                if not got and delivered:
                    on_restart()
                got, delivered, last_frame, wait = True, True, arrival, policy.backoff_s
                yield frame, arrival
        except FFMPEG_ERRORS as exc:  # a dropped connection or a stall (the read timeout): reconnect below
            error = exc
        finally:
            container.close()
        if not source.reconnect or stopping.is_set():
            return
        if got:
            stats.drops += 1
            yield DROPPED, time.monotonic()
        elif stopping.wait(min(wait, max(timeout_s - (time.monotonic() - last_frame), 0.0))):
            return
        else:
            wait = min(wait * 2, policy.backoff_max_s)
