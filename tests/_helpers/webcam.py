"""A browser with a fake camera for the demo's live tab: a generated moving pattern written as y4m with PyAV (what
Chromium's ``--use-file-for-fake-video-capture`` plays, looping), and a page whose every request to a host other
than 127.0.0.1 is aborted and recorded."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import numpy as np


def moving_frames(n: int, height: int, width: int) -> np.ndarray:
    """uint8 RGB [n, height, width, 3]: diagonal stripes drifting right by 4 px a frame, and a bright square
    crossing the picture, so that every frame differs from the last."""
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((n, height, width, 3), np.uint8)
    side = max(height // 4, 4)
    for i in range(n):
        stripes = ((x + y - 4 * i) // 8 % 2 * 120 + 60).astype(np.uint8)
        frames[i] = stripes[..., None]
        frames[i, ..., 2] = (x * 255 // max(width - 1, 1)).astype(np.uint8)
        left = (i * 6) % max(width - side, 1)
        frames[i, height // 2 - side // 2 : height // 2 + side // 2, left : left + side] = (250, 220, 40)
    return frames


def write_y4m(path: Path, frames: np.ndarray, fps: int) -> Path:
    """``frames`` (uint8 RGB [N, H, W, 3]) as a YUV4MPEG2 file (4:2:0), written by PyAV's yuv4mpegpipe muxer."""
    import av

    with av.open(str(path), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("wrapped_avframe", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for image in frames:
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


class LocalVisit:
    """A page in its own browser context; every request to a host other than 127.0.0.1 is aborted and kept in
    ``outside`` (websockets too, which routing does not see)."""

    def __init__(self, browser, url: str, **context) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("websocket", lambda ws: self._check(ws.url))
        self.page.goto(url)

    def _check(self, url: str) -> bool:
        local = urlparse(url).hostname == "127.0.0.1"
        if not local:
            self.outside.append(url)
        return local

    def _route(self, route) -> None:
        if self._check(route.request.url):
            route.continue_()
        else:
            route.abort()
