"""`watch` surviving faults over loopback: a publisher that stops for a few seconds and comes back with its clock
reset is one gap (segments before and after it found, stream time never going back); a source that never answers
fails within the stated time, naming it; reconnection waits grow to their cap."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from _helpers.live import free_port, matches, published, write_long_video

from ezclip_zoo.errors import VideoDecodeError
from ezclip_zoo.live import ReconnectPolicy, describe_source, watch
from ezclip_zoo.localization.segments import Segment
from ezclip_zoo.synthetic import STILL_CLASS
from ezclip_zoo.synthetic.motion_models import window_config

RULE = {"window_s": 2.0, "stride_s": 0.5, "background": [STILL_CLASS], "min_windows": 2}


def _shifted(segments, offset: float) -> list[Segment]:
    return [Segment(s.label, s.start + offset, s.end + offset, s.score) for s in segments]


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_publisher_that_stops_for_seconds_and_restarts_is_one_gap_and_later_segments_are_found(
    tmp_path, motion_model
):
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    write_long_video(first, seed=0)
    write_long_video(second, seed=2)
    classes = window_config().actions
    expected_first = motion_model.localize(str(first), classes, **RULE).segments
    expected_second = motion_model.localize(str(second), classes, **RULE).segments
    assert expected_first and expected_second
    port = free_port()
    url = f"tcp://127.0.0.1:{port}?listen=1"
    policy = ReconnectPolicy(stall_s=1.0, backoff_s=0.1, backoff_max_s=0.5)
    source = describe_source(f"tcp://127.0.0.1:{port}", reconnect=policy)
    events: list = []
    with published(first, url, pace=4.0) as publisher:
        time.sleep(0.5)
        live = watch(motion_model, source, classes, timeout_s=8.0, **RULE)
        with live:
            for event in live:
                events.append(event)
                if live.ring.gaps or publisher.poll() is not None:
                    break
            assert publisher.wait(timeout=60) == 0
            time.sleep(3.0)  # the publisher is away for a few seconds; the watch keeps trying to reconnect
            with published(second, url, pace=4.0) as again:  # back, its timestamps starting at 0 again
                events.extend(live)  # until the second stream ends and no publisher comes back for 8 s
                assert again.wait(timeout=60) == 0
    summary = live.summary
    gaps = [e for e in events if e.kind == "gap"]
    assert len(gaps) == 1 and summary.gaps == 1, gaps  # one gap for the outage, however many attempts it took
    gap = gaps[0]
    assert gap.duration_s >= 3.0 and gap.end - gap.start >= 3.0  # stream time went on by the time that passed
    windows = [e for e in events if e.kind == "window"]
    assert all(a.end <= b.end for a, b in zip(windows, windows[1:], strict=False))  # never backwards
    assert not [w for w in windows if w.start < gap.end and w.end > gap.start]  # none straddles the gap
    closed = [e.segment for e in events if e.kind == "closed"]
    before = [s for s in closed if s.end <= gap.start]
    after = [s for s in closed if s.start >= gap.end]
    assert len(before) + len(after) == len(closed)
    assert matches(before, expected_first), (before, expected_first)
    assert matches(after, _shifted(expected_second, gap.end)), (after, expected_second, gap)
    assert summary.error is None and summary.segments == len(closed)


def _silent_server() -> tuple[socket.socket, threading.Event]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    done = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        server.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
        for conn in held:
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return server, done


@pytest.mark.parametrize("kind", ["silent", "refused"])
def test_a_source_that_never_answers_fails_within_timeout_naming_it(tiny_model, kind):
    if kind == "silent":
        server, done = _silent_server()
        url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    else:
        url = f"tcp://127.0.0.1:{free_port()}"  # nothing listens: refused at once, retried with back-off
    try:
        started = time.monotonic()
        live = watch(tiny_model, url, ["a", "b"], timeout_s=1.5)
        with pytest.raises(VideoDecodeError) as info, live:
            next(live)
        elapsed = time.monotonic() - started
    finally:
        if kind == "silent":
            done.set()
            server.close()
    assert 1.4 <= elapsed <= 1.5 + 1.0, elapsed  # the stated bound: timeout_s plus about 0.1 s (1 s of slack)
    message = str(info.value)
    assert url in message and "within 1.5 s" in message and "timeout" in message


def test_reconnection_waits_double_up_to_their_cap(monkeypatch, tiny_model):
    from ezclip_zoo.live import sources

    attempts: list[float] = []

    def refuse(file, **kwargs):
        attempts.append(time.monotonic())
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(sources, "av_open", refuse)
    policy = ReconnectPolicy(stall_s=1.0, backoff_s=0.05, backoff_max_s=0.2)
    assert policy.waits() == [0.05, 0.1, 0.2]
    live = watch(tiny_model, describe_source("udp://127.0.0.1:9", reconnect=policy), ["a"], timeout_s=1.2)
    with pytest.raises(VideoDecodeError, match="ConnectionRefusedError"), live:
        next(live)
    waits = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) >= 6 and waits[0] < 0.15 and waits[1] >= 0.09
    assert max(waits) < 0.2 + 0.15 and sorted(waits)[-2] >= 0.19  # capped at backoff_max_s


def test_reconnect_policies_are_checked():
    with pytest.raises(ValueError, match="stall_s"):
        ReconnectPolicy(stall_s=0)
    with pytest.raises(ValueError, match="backoff_max_s"):
        ReconnectPolicy(backoff_s=2.0, backoff_max_s=1.0)
    with pytest.raises(TypeError, match="ReconnectPolicy"):
        describe_source("udp://127.0.0.1:9", reconnect={"stall_s": 1})  # type: ignore[arg-type]
