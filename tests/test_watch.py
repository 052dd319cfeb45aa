"""`watch` on real streams over loopback: a generated video published live over TCP finds what `localize` finds
on the file; a dropped TCP connection reconnected; files at a pace, growing files, HTTP; the stream clock; bad
arguments named."""

from __future__ import annotations

import math
import threading
import time
from fractions import Fraction

import pytest
from _helpers.live import matches, published, write_long_video

from ezclip_zoo.live import StreamClock, describe_source, watch
from ezclip_zoo.synthetic import STILL_CLASS
from ezclip_zoo.synthetic.motion_models import window_config

RULE = {"window_s": 2.0, "stride_s": 0.5, "background": [STILL_CLASS], "min_windows": 2}


def _events(live):
    with live:
        events = list(live)
    return events, live.summary


def _closed(events):
    return [e.segment for e in events if e.kind == "closed"]


@pytest.mark.slow
@pytest.mark.subprocess
def test_live_tcp_mpegts_finds_the_segments_localize_finds_on_the_file(tmp_path, motion_model):
    from _helpers.live import free_port

    path = tmp_path / "long.mp4"
    write_long_video(path, seed=2)
    expected = motion_model.localize(str(path), window_config().actions, **RULE).segments
    assert expected
    port = free_port()
    with published(path, f"tcp://127.0.0.1:{port}?listen=1", pace=4.0) as publisher:
        time.sleep(0.5)
        live = watch(motion_model, f"tcp://127.0.0.1:{port}", window_config().actions, timeout_s=2.0, **RULE)
        events, summary = _events(live)
        assert publisher.wait(timeout=30) == 0
    found = _closed(events)
    assert matches(found, expected), (found, expected)
    windows = [e for e in events if e.kind == "window"]
    assert summary.windows == len(windows) >= 20 and summary.latency_p95_s is not None
    assert all(a.end <= b.end for a, b in zip(windows, windows[1:], strict=False))  # stream time only goes forward
    opened = [e for e in events if e.kind == "opened"]
    assert [(e.label, e.start) for e in opened] == [(s.label, s.start) for s in found]  # never taken back


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_dropped_tcp_connection_is_one_gap_and_stream_time_goes_on(tmp_path, tiny_model):
    import numpy as np
    from _helpers.live import free_port

    from ezclip_zoo.video import write_video

    path = tmp_path / "clip.mp4"
    x = np.arange(96, dtype=np.int32)[None, :] + np.arange(64, dtype=np.int32)[:, None]
    frames = [np.repeat(((x + 5 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(40)]
    write_video(path, np.stack(frames), fps=10, keyframe_interval=10)  # 4 s
    port = free_port()
    url = f"tcp://127.0.0.1:{port}?listen=1"
    rule = {"window_s": 1.0, "stride_s": 0.5, "min_score": 0.0, "keep_score": 0.0}  # one segment, never closing
    events: list = []

    def take(live, windows: int, after_restart: bool = False) -> None:
        """Iterate until ``windows`` more windows (counting only those after a restart, if asked)."""
        count = 0
        for event in live:
            events.append(event)
            if event.kind == "window" and (not after_restart or live.capture.clock.epochs >= 1):
                count += 1
                if count == windows:
                    return
        pytest.fail(f"the watch ended early: {live.summary}")

    with published(path, url, pace=2.0, loops=20) as first:  # 40 s of stream: killed long before its end
        live = watch(tiny_model, f"tcp://127.0.0.1:{port}", ["a", "b"], timeout_s=10.0, **rule)
        with live:
            take(live, 4)
            first.kill()  # the connection drops mid-stream
            assert first.wait(timeout=10) != 0
            before = [e for e in events if e.kind == "window"]
            frames_before = live.summary.frames
            with published(path, url, pace=2.0, loops=20) as second:  # a new publisher on the same port
                take(live, 4, after_restart=True)
                assert second.poll() is None  # still publishing: the windows came from the live stream
                live.stop()
                events.extend(live)
    summary = live.summary
    windows = [e for e in events if e.kind == "window"]
    after = windows[len(before) :]
    assert summary.restarts == 1 and summary.error is None  # the reconnect, counted once
    assert summary.windows == len(windows) and len(after) >= 4
    assert summary.frames > frames_before
    # stream time never goes backwards: window indices, starts and ends only increase across the reconnect
    pairs = zip(windows, windows[1:], strict=False)
    assert all(a.index < b.index and a.start <= b.start and a.end <= b.end for a, b in pairs)
    assert after[0].start > before[-1].start
    # one gap for the outage; the segment open when the connection dropped closed at the last window before the
    # gap, and a new one opened after it
    (gap,) = [e for e in events if e.kind == "gap"]
    assert summary.gaps == 1 and 0 < gap.duration_s < 10 and before[-1].end <= gap.start <= gap.end
    assert gap.to_dict()["event"] == "gap" and gap.closed == 1
    opened, closed = [e for e in events if e.kind == "opened"], [e for e in events if e.kind == "closed"]
    assert len(opened) == len(closed) == 2 and opened[0].start <= before[-1].start
    pre_gap = [w for w in windows if w.end <= gap.start]
    assert closed[0].end == pytest.approx(pre_gap[-1].end) and events.index(closed[0]) < events.index(gap)
    assert opened[1].start >= gap.end and closed[1].end == pytest.approx(after[-1].end)
    assert all(w.start >= gap.end for w in windows if w.end > gap.start)  # no window straddles the gap


def test_a_file_at_a_pace_gives_localize_segments_and_window_results(tmp_path, motion_model):
    path = tmp_path / "long.mp4"
    write_long_video(path, seed=0)
    expected = motion_model.localize(str(path), window_config().actions, **RULE)
    events, summary = _events(watch(motion_model, str(path), window_config().actions, pace=32.0, **RULE))
    closed = _closed(events)
    assert [(s.label, s.start, s.end) for s in closed] == [(s.label, s.start, s.end) for s in expected.segments]
    windows = [e for e in events if e.kind == "window"]
    assert summary.skipped == 0 and summary.windows == len(windows)
    first = windows[0].to_dict()
    assert set(first) == {"event", "start", "end", "frame_indices", "probabilities", "latency_s"}
    assert set(first["probabilities"]) == set(expected.class_names)
    # the windows are localize's; the last one, aligned to the end of the stream as localize aligns it, samples
    # the frames kept nearest its instants (the ring keeps only frames of the stride grid): within a frame
    assert [(w.start, w.end) for w in windows[:-1]] == pytest.approx(expected.spans[:-1])
    assert windows[-1].end == pytest.approx(expected.spans[-1][1])
    assert abs(windows[-1].start - expected.spans[-1][0]) <= 1 / 8 + 1e-6


@pytest.mark.slow
def test_a_file_being_written_is_followed_until_it_stops_growing(tmp_path, tiny_model):
    from ezclip_zoo.live import publish

    source = tmp_path / "clip.mp4"
    video = write_long_video(source, seed=1, num_segments=1)
    growing = tmp_path / "growing.ts"
    writer = threading.Thread(target=publish, args=(str(source), str(growing)), kwargs={"pace": 8.0})
    writer.start()
    live = watch(tiny_model, str(growing), ["a", "b"], follow=True, timeout_s=1.5, min_score=0.0, keep_score=0.0)
    events, summary = _events(live)
    writer.join()
    assert summary.frames == video.frames.shape[0]
    assert summary.windows >= int((video.duration - 2.0) / 0.5)
    assert len(_closed(events)) >= 1


def test_http_progressive_is_read_at_its_pace(tmp_path, tiny_model):
    from _helpers.servers import LocalServer

    path = tmp_path / "clip.mp4"
    video = write_long_video(path, seed=3, num_segments=1)
    server = LocalServer()
    server.files["/clip.mp4"] = path.read_bytes()
    try:
        started = time.monotonic()
        live = watch(tiny_model, f"{server.url}/clip.mp4", ["a", "b"], pace=8.0, timeout_s=2.0, max_windows=6)
        events, summary = _events(live)
    finally:
        server.stop()
    assert summary.windows == 6 and [e.kind for e in events].count("window") == 6
    # six windows of a 2 s window every 0.5 s end 4.5 s into the stream: 0.56 s at 8x, not at download speed
    assert time.monotonic() - started >= 4.5 / 8.0
    assert video.duration > 4.5


def test_the_stream_clock_unwraps_restarts_and_falls_back_to_the_wall_clock():
    ts = Fraction(1, 90000)
    clock = StreamClock()
    top = (1 << 33) - 9000  # 0.1 s before the 33-bit counter wraps
    assert clock.time(top, ts, 100.0) == 0.0
    assert clock.time(top + 4500, ts, 100.05) == pytest.approx(0.05)
    assert clock.time(4500 - 9000 + 9000, ts, 100.15) == pytest.approx(0.15)  # wrapped: 0.15 s, not -95000 s
    assert clock.wraps == 1
    # a publisher that restarts at 0 a second later (a reconnect): time goes on by the wall clock
    clock.restart()
    assert clock.time(0, ts, 101.15) == pytest.approx(1.15)
    assert clock.time(9000, ts, 101.25) == pytest.approx(1.25) and clock.epochs == 1
    # a jump back within one connection is a reset too
    assert clock.time(0, ts, 101.35) == pytest.approx(1.35) and clock.epochs == 2
    plain = StreamClock(pace=2.0)
    assert plain.time(None, None, 50.0) == 0.0 and plain.time(None, None, 50.5) == pytest.approx(1.0)


def test_sources_and_arguments_are_checked_with_clear_errors(tmp_path, tiny_model):
    assert describe_source("-").kind == "stdin" and describe_source("udp://127.0.0.1:1").pace is None
    assert describe_source("https://example.org/v.mp4").pace == 1.0
    assert describe_source("tcp://127.0.0.1:1", pace=math.inf).pace is None
    with pytest.raises(FileNotFoundError, match="does not exist"):
        describe_source(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="unknown scheme"):
        describe_source("gopher://x")
    with pytest.raises(ValueError, match="pace"):
        describe_source("-", pace=0)
    with pytest.raises(ValueError, match="stride_s"):
        watch(tiny_model, "-", ["a"], stride_s=0)
    with pytest.raises(ValueError, match="max_windows"):
        watch(tiny_model, "-", ["a"], max_windows=0)
    from _helpers.live import free_port

    from ezclip_zoo.errors import VideoDecodeError

    live = watch(tiny_model, f"tcp://127.0.0.1:{free_port()}", ["a"], timeout_s=0.5)
    with pytest.raises(VideoDecodeError, match="cannot open live source"), live:
        next(live)
