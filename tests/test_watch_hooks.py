"""Event hooks (``ezclip-zoo watch --on-event CMD``): the command gets each event's JSON on stdin, in the
background; a failing, slow or swamped hook is logged and counted and never blocks or ends the stream."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from ezclip_zoo.live import EventHook
from ezclip_zoo.video import write_video


def _events(n: int) -> list[dict]:
    return [{"event": "opened", "label": f"class {i}", "start": float(i), "decided_at": i + 0.5} for i in range(n)]


def test_each_event_reaches_the_command_as_json_on_stdin(tmp_path):
    out = tmp_path / "events.jsonl"
    hook = EventHook(f"cat >> {out}", timeout_s=10.0)
    sent = _events(5)
    assert all(hook.submit(e) for e in sent)
    stats = hook.close()
    received = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(received, key=lambda e: e["start"]) == sent  # two workers: in any order, each once, whole
    assert stats.to_dict() == {"submitted": 5, "ran": 5, "failed": 0, "timed_out": 0, "dropped": 0}


def test_a_failing_hook_is_logged_and_counted(caplog):
    hook = EventHook("echo broken >&2; exit 3", timeout_s=10.0)
    for event in _events(3):
        hook.submit(event)
    stats = hook.close()
    assert stats.failed == 3 and stats.ran == 0
    assert "exited with 3: broken" in caplog.text


def test_a_slow_hook_is_killed_after_its_timeout_and_never_blocks_the_caller(caplog):
    hook = EventHook("sleep 30", timeout_s=0.3, workers=1, max_pending=2)
    started = time.monotonic()
    accepted = [hook.submit(e) for e in _events(6)]
    submitted_in = time.monotonic() - started
    stats = hook.close()
    assert submitted_in < 0.2  # submit only queues
    # one running, two waiting; the other three dropped rather than queued without bound
    assert accepted.count(False) == stats.dropped >= 2 and stats.timed_out == 6 - stats.dropped
    assert time.monotonic() - started < 0.3 * stats.timed_out + 3.0  # each killed at its timeout, sleep's child too
    assert "took over 0.3 s and was killed" in caplog.text and "cannot keep up" in caplog.text


def test_hooks_are_checked():
    with pytest.raises(ValueError, match="command line"):
        EventHook("  ")
    with pytest.raises(ValueError, match="timeout_s"):
        EventHook("true", timeout_s=0)


@pytest.mark.slow
def test_watch_on_event_runs_the_hook_per_segment_event_and_a_slow_one_does_not_hold_the_stream(tmp_path):
    from ezclip_zoo.cli import main

    video = tmp_path / "clip.mp4"
    x = np.arange(96, dtype=np.int32)[None, :] + np.arange(64, dtype=np.int32)[:, None]
    frames = [np.repeat(((x + 5 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(60)]
    write_video(video, np.stack(frames), fps=10, keyframe_interval=10)  # 6 s
    base = ["watch", str(video), "-m", "ezclip-test-tiny", "-l", "a", "-l", "b", "--window", "1"]
    base += ["--min-score", "0", "--keep-score", "0", "--pace", "8", "--windows"]
    hooked, lines = tmp_path / "hooked.jsonl", tmp_path / "lines.jsonl"
    assert main([*base, "--jsonl", str(lines), "--on-event", f"cat >> {hooked}"]) == 0
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    segment_events = [r for r in records if r["event"] in ("opened", "closed", "gap")]
    assert segment_events and [json.loads(line) for line in hooked.read_text().splitlines()] == segment_events
    summary = records[-1]
    assert summary["hooks"] == {
        "submitted": len(segment_events),
        "ran": len(segment_events),
        "failed": 0,
        "timed_out": 0,
        "dropped": 0,
    }
    # a hook slower than the stream: killed at its timeout, counted; the windows' latency is untouched
    slow = tmp_path / "slow.jsonl"
    started = time.monotonic()
    assert main([*base, "--jsonl", str(slow), "--on-event", "sleep 20", "--on-event-timeout", "0.5"]) == 0
    assert time.monotonic() - started < 15
    records = [json.loads(line) for line in slow.read_text().splitlines()]
    hooks = records[-1]["hooks"]
    assert hooks["timed_out"] == len(segment_events) and hooks["ran"] == 0
    assert records[-1]["latency_s"]["max"] < 0.5
