"""Live video: a stream in, actions out as they happen.

* `watch(model, source, class_names, window_s=2.0, stride_s=0.5, ...)` -> a `LiveWatch`, an iterator of
  `WindowResult` (each window as it closes, with its latency) and `SegmentEvent` (``opened`` / ``closed``, from the
  incremental segment rule of `ezclip_zoo.localization`); a context manager that closes open segments on exit;
* the sources it reads through PyAV (`describe_source`, `LiveSource`): files at real-time pace, files being
  written, TCP / UDP MPEG-TS, HTTP(S), HLS, RTSP, RTMP, v4l2 cameras, stdin; stream time from their timestamps
  (`StreamClock`); drops and stalls reconnected with back-off (`ReconnectPolicy`), one `GapEvent` per outage;
* `EventHook`, a command run per event with its JSON on stdin (in the background, with a timeout);
* `publish`, a file sent as a live MPEG-TS stream (tests, benchmarks, demos).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .clock import StreamClock
    from .hooks import EventHook, HookStats
    from .publisher import publish
    from .reconnect_policy import ReconnectPolicy
    from .results import GapEvent, WatchSummary, WindowResult
    from .sources import LiveSource, describe_source
    from .watcher import LiveWatch, watch

__all__ = [
    "EventHook",
    "GapEvent",
    "HookStats",
    "LiveSource",
    "LiveWatch",
    "ReconnectPolicy",
    "StreamClock",
    "WatchSummary",
    "WindowResult",
    "describe_source",
    "publish",
    "watch",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".clock": ("StreamClock",),
        ".hooks": ("EventHook", "HookStats"),
        ".publisher": ("publish",),
        ".reconnect_policy": ("ReconnectPolicy",),
        ".results": ("GapEvent", "WatchSummary", "WindowResult"),
        ".sources": ("LiveSource", "describe_source"),
        ".watcher": ("LiveWatch", "watch"),
    },
)
