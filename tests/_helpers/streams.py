"""Stream sources for the watch tests beyond MPEG-TS: a small moving-gradient clip, and an HTTP server on
127.0.0.1 serving a folder as it is written (HLS playlists and segments from PyAV's HLS muxer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .servers import LocalServer


def gradient_clip(path: Path, seconds: int = 4, fps: int = 10) -> Path:
    """A 96 x 64 moving gradient, a keyframe every second, written to ``path``."""
    from ezclip_zoo.video import write_video

    x = np.arange(96, dtype=np.int32)[None, :] + np.arange(64, dtype=np.int32)[:, None]
    frames = [np.repeat(((x + 5 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(seconds * fps)]
    write_video(path, np.stack(frames), fps=fps, keyframe_interval=fps)
    return path


class FolderServer(LocalServer):
    """Serves the files of ``folder`` as they are at each request (a live HLS playlist grows)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def lookup(self, path: str) -> tuple[bytes | None, dict[str, str]]:
        file = self.folder / path.lstrip("/")
        if not file.is_file() or file.resolve().parent != self.folder.resolve():
            return None, {}
        kind = "application/vnd.apple.mpegurl" if file.suffix == ".m3u8" else "video/mp2t"
        return file.read_bytes(), {"Content-Type": kind, "Cache-Control": "no-cache"}
