"""Live streams for the watch tests: a generated video written to a file, published from a subprocess (PyAV's
listening call holds the GIL) over TCP or UDP on 127.0.0.1, and free ports to publish on."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from .paths import REPO_ROOT


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that nothing listens on now (TCP by default, ``socket.SOCK_DGRAM`` for UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_long_video(path: Path, seed: int, **kwargs):
    """A long synthetic video of the motion model's classes (`render_long_video`), written losslessly at its
    frame rate; returns the `LongVideo` (frames and truth)."""
    from ezclip_zoo.synthetic import render_long_video
    from ezclip_zoo.synthetic.motion_models import window_config
    from ezclip_zoo.video import write_video

    video = render_long_video(window_config(), seed, **kwargs)
    write_video(path, video.frames, fps=int(video.fps), crf=0)
    return video


@contextlib.contextmanager
def published(video: Path, url: str, *, pace: float, loops: int = 1) -> Iterator[subprocess.Popen]:
    """``python -m ezclip_zoo.live.publisher VIDEO URL`` running for the block (killed at its end if still up)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "ezclip_zoo.live.publisher", str(video), url, "--pace", str(pace)]
    proc = subprocess.Popen([*command, "--loops", str(loops)], env=env, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def matches(found, expected, min_iou: float = 0.5) -> bool:
    """Every expected segment has a found one of its label with tIoU >= ``min_iou``, and every found one an
    expected one (no extra segment)."""
    from ezclip_zoo.evaluation.detection import temporal_iou

    def covered(a, pool):
        return any(s.label == a.label and temporal_iou(s, a) >= min_iou for s in pool)

    return all(covered(e, found) for e in expected) and all(covered(f, expected) for f in found)
