"""`watch` under stress: a UDP stream ended by SIGTERM through the command line, and a model slower than real
time (windows skipped and counted, latency bounded, memory flat over a long paced run)."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from _helpers.live import free_port, published, write_long_video
from _helpers.paths import REPO_ROOT

from ezclip_zoo.live import watch
from ezclip_zoo.video import write_video


def _lines(stream) -> queue.Queue:
    out: queue.Queue = queue.Queue()

    def pump():
        for line in stream:
            out.put(line)
        out.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return out


@pytest.mark.slow
@pytest.mark.subprocess
def test_udp_windows_arrive_while_the_stream_runs_and_sigterm_ends_cleanly(tmp_path):
    video = tmp_path / "clip.mp4"
    write_long_video(video, seed=1, num_segments=1)
    port = free_port(socket.SOCK_DGRAM)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "ezclip_zoo.cli", "watch", f"udp://127.0.0.1:{port}", "-m", "ezclip-test-tiny"]
    command += ["-l", "a", "-l", "b", "--window", "1", "--windows", "--jsonl", "-", "--timeout", "20"]
    viewer = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = _lines(viewer.stdout)
    try:
        time.sleep(1.0)  # let the viewer bind its port
        with published(video, f"udp://127.0.0.1:{port}?pkt_size=1316", pace=1.0, loops=20) as publisher:
            records = []
            deadline = time.monotonic() + 90
            while sum(r["event"] == "window" for r in records) < 3 and time.monotonic() < deadline:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                assert line is not None, viewer.stderr.read()
                records.append(json.loads(line))
            assert publisher.poll() is None  # the windows came while the stream was still running
            viewer.send_signal(signal.SIGTERM)
            assert viewer.wait(timeout=30) == 0, viewer.stderr.read()
    finally:
        if viewer.poll() is None:
            viewer.kill()
    while (line := lines.get(timeout=10)) is not None:
        records.append(json.loads(line))  # every line is whole JSON
    assert records[-1]["event"] == "summary" and records[-1]["windows"] >= 3
    windows = [r for r in records if r["event"] == "window"]
    assert all(set(r) >= {"start", "end", "frame_indices", "probabilities", "latency_s"} for r in windows)
    opened = sum(r["event"] == "opened" for r in records)
    assert sum(r["event"] == "closed" for r in records) == opened  # SIGTERM closed every open segment


def _long_frames(seconds: int, fps: int) -> np.ndarray:
    """320 x 240 frames of a moving gradient: large enough that keeping them all would show in memory."""
    x = np.arange(320, dtype=np.int32)[None, :] + np.arange(240, dtype=np.int32)[:, None]
    return np.stack(
        [np.repeat(((x + 3 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(seconds * fps)]
    )


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_a_slow_model_skips_windows_keeps_latency_bounded_and_memory_flat(tmp_path, tiny_model):
    path = tmp_path / "long.mp4"
    write_video(path, _long_frames(120, 10), fps=10, keyframe_interval=50)
    step = 0.2  # seconds per window: 5 windows a second, against 16 a second at 8x real time with a 0.5 s stride
    encode = tiny_model.encode_video

    def slow(*args, **kwargs):
        time.sleep(step)
        return encode(*args, **kwargs)

    tiny_model.encode_video = slow
    live = watch(tiny_model, str(path), ["a", "b"], pace=8.0, min_score=0.0, keep_score=0.0)
    rss, ring = [], []
    with live:
        for event in live:
            if event.kind == "window":
                rss.append(_rss_mb())
                ring.append(len(live.ring.frames))
            last = event
    summary = live.summary
    assert summary.skipped > summary.windows  # most windows completed while the model was busy, never queued
    grid_windows = int((120 - 2.0) / 0.5) + 1
    assert summary.windows + summary.skipped == grid_windows  # every window scored or counted as skipped
    # the newest complete window is scored: it waited at most one window being scored, then was scored itself
    assert summary.latency_p95_s < 2 * step + 0.4, summary
    # an open segment holds across skipped windows: min_score=0, keep_score=0 never close, so every segment
    # closes at the flush, at the last window's end
    closed = [e for e in live.tracker.segments]
    assert 1 <= len(closed) <= 2 and all(s.end == pytest.approx(summary.stream_s, abs=0.2) for s in closed)
    assert last.kind == "closed"
    # memory flat: the ring holds at most the frames two windows sample; RSS does not grow after the first fifth
    assert max(ring) <= 2 * tiny_model.num_frames * (2.0 / 0.5 + 1)
    fifth = len(rss) // 5
    assert max(rss[fifth:]) - rss[fifth] < 25, (rss[fifth], max(rss[fifth:]))
