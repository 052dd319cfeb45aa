"""``ezclip-zoo watch`` on the command line: live MPEG-TS piped into stdin, and the segment-rule options it
shares with ``ezclip-zoo localize`` (one declaration, the same spelling, help and defaults)."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from _helpers.paths import REPO_ROOT

from ezclip_zoo.cli import build_parser
from ezclip_zoo.video import write_video

RULE_OPTIONS = ("--window", "--background", "--min-score", "--keep-score", "--min-margin", "--min-duration")
RULE_OPTIONS += ("--merge-gap", "--min-windows", "--extent")


def _gradient_video(path, seconds: int, fps: int = 10) -> None:
    """A small moving gradient (96 x 64), a keyframe every second."""
    x = np.arange(96, dtype=np.int32)[None, :] + np.arange(64, dtype=np.int32)[:, None]
    frames = [np.repeat(((x + 5 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(seconds * fps)]
    write_video(path, np.stack(frames), fps=fps, keyframe_interval=fps)


@pytest.mark.slow
@pytest.mark.subprocess
def test_mpegts_piped_into_stdin_gives_windows_and_a_summary(tmp_path):
    video = tmp_path / "clip.mp4"
    _gradient_video(video, seconds=4)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    # `python -m ezclip_zoo.live.publisher VIDEO -` writes live MPEG-TS to stdout at 4x real time, as
    # `ffmpeg ... -f mpegts -` would: watch reads the pipe as it fills, at the stream's own pace
    publisher = subprocess.Popen(
        [sys.executable, "-m", "ezclip_zoo.live.publisher", str(video), "-", "--pace", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    command = [sys.executable, "-m", "ezclip_zoo.cli", "watch", "-", "-m", "ezclip-test-tiny", "-l", "a", "-l", "b"]
    command += ["--window", "1", "--windows", "--jsonl", "-", "--timeout", "20"]
    try:
        viewer = subprocess.run(
            command, stdin=publisher.stdout, capture_output=True, text=True, env=env, timeout=120, check=False
        )
    finally:
        assert publisher.stdout is not None
        publisher.stdout.close()
        if publisher.poll() is None:
            publisher.kill()
        publisher.wait(timeout=30)
    assert viewer.returncode == 0, viewer.stderr[-3000:]
    assert publisher.returncode == 0
    records = [json.loads(line) for line in viewer.stdout.splitlines()]  # every line is whole JSON
    summary = records[-1]
    assert summary["event"] == "summary" and summary["source"] == "stdin" and summary["error"] is None
    windows = [r for r in records if r["event"] == "window"]
    assert summary["windows"] == len(windows) >= 1
    assert all(set(r) >= {"start", "end", "frame_indices", "probabilities", "latency_s"} for r in windows)
    assert all(set(r["probabilities"]) == {"a", "b"} for r in windows)
    assert all(a["end"] < b["end"] for a, b in zip(windows, windows[1:], strict=False))  # stream time goes forward
    # every frame arrived, from the stream's own timestamps; every window of 1 s every 0.5 s was scored or
    # counted as skipped (4 s of stream: 7 windows)
    assert summary["frames"] == 40 and summary["restarts"] == 0
    assert summary["stream_s"] == pytest.approx(4.0, abs=0.01)
    assert summary["windows"] + summary["skipped"] == 7
    assert "stdin:" in viewer.stderr and "windows scored" in viewer.stderr  # the summary, readable, on stderr


def _options(command: str) -> dict[str, argparse.Action]:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a.choices, dict)]
    sub = subparsers.choices[command]
    return {a.option_strings[0]: a for a in sub._actions if a.option_strings}


def test_localize_and_watch_take_the_same_segment_rule_options():
    localize, watch = _options("localize"), _options("watch")

    def spec(action):
        return (action.dest, action.type, action.default, action.choices, action.metavar, action.help, action.nargs)

    for option in RULE_OPTIONS:
        assert spec(localize[option]) == spec(watch[option]), option
    # the stride: the same option; its default is each command's (localize: half a window; watch: 0.5 s)
    assert localize["--stride"].default is None and watch["--stride"].default == 0.5
    assert "half a window" in localize["--stride"].help and "0.5" in watch["--stride"].help
    # and they reach localize() and watch() under the same keyword names
    from ezclip_zoo.cli._common import segment_arguments

    argv = ["--stride", "0.25", "--background", "still", "--min-score", "0.6", "--keep-score", "0.4"]
    argv += ["--min-margin", "0.1", "--min-duration", "1", "--merge-gap", "0.5", "--min-windows", "2"]
    argv += ["--extent", "cells", "--window", "3"]
    parser = build_parser()
    got = [segment_arguments(parser.parse_args([c, "x", "-m", "m", "-l", "a", *argv])) for c in ("localize", "watch")]
    assert (
        got[0]
        == got[1]
        == {
            "window_s": 3.0,
            "stride_s": 0.25,
            "background": ["still"],
            "min_score": 0.6,
            "keep_score": 0.4,
            "min_margin": 0.1,
            "min_duration_s": 1.0,
            "merge_gap_s": 0.5,
            "min_windows": 2,
            "extent": "cells",
        }
    )
    from ezclip_zoo.live import watch as watch_function
    from ezclip_zoo.localization import localize as localize_function

    for function in (localize_function, watch_function):
        assert set(got[0]) <= set(inspect.signature(function).parameters), function
