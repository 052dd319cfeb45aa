"""Temporal localisation: window times from the decoded frames (variable frame rate too), one decode per frame,
the segment rule with "no action", bad input, the CLI, and bounded memory on long videos."""

import json
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from _helpers.models import tiny as tiny_model_of
from _helpers.trained_motion import check_localization
from _helpers.video_data import index_frame, read_index

from ezclip_zoo.cli import main
from ezclip_zoo.errors import LocalizationWarning
from ezclip_zoo.localization import SegmentRule, find_segments, localize, plan_windows, window_cells
from ezclip_zoo.localization.pipeline import open_frames, window_views
from ezclip_zoo.synthetic.motion_models import window_config
from ezclip_zoo.video import write_video
from ezclip_zoo.video.frame_times import frame_times_from_rate


@pytest.fixture(scope="module")
def tiny():
    return tiny_model_of(0).eval()


def _write_vfr(path, intervals_ms):
    """An H.264 MP4 whose frame i shows i and lasts intervals_ms[i] milliseconds (a variable frame rate)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 48, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i, d in enumerate(intervals_ms):
            frame = av.VideoFrame.from_ndarray(index_frame(i), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += d
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return str(path)


def _decoded_times(path):
    with av.open(path) as c:
        return [(f.time, read_index(f.to_ndarray(format="rgb24"))) for f in c.decode(video=0)]


def _last_packet_duration(path):
    with av.open(path) as c:
        packets = [p for p in c.demux(video=0) if p.size]
        last = max(packets, key=lambda p: p.pts)
        return float(last.duration * last.time_base)


def test_window_times_are_the_decoded_frames_timestamps_at_a_variable_frame_rate(tmp_path, tiny):
    rng = np.random.default_rng(0)
    intervals = [int(d) for d in rng.choice([20, 33, 50, 100, 140], size=90)]
    path = _write_vfr(tmp_path / "vfr.mp4", intervals)
    decoded = _decoded_times(path)
    times = [t for t, _ in decoded]
    assert [i for _, i in decoded] == list(range(90))
    result = localize(tiny, path, ["a", "b"], window_s=1.0, stride_s=0.25)
    ends = times[1:] + [times[-1] + _last_packet_duration(path)]
    for w in result.windows:
        first, last = w.frame_indices[0], w.frame_indices[-1]
        assert w.start == times[first] - times[0]  # exactly: the same float
        assert w.end == pytest.approx(ends[last] - times[0], abs=1e-12)
        assert list(w.frame_indices) == sorted(w.frame_indices)
    assert result.duration == pytest.approx(ends[-1] - times[0])
    assert result.duration - result.windows[-1].end < 1.0 / tiny.num_frames  # the tail window reaches the end
    # the frames sampled are those on screen at the centres of the window's T parts
    begin = 0.0
    w0 = result.windows[0]
    for k, i in enumerate(w0.frame_indices):
        centre = begin + (k + 0.5) * 1.0 / tiny.num_frames
        assert times[i] - times[0] <= centre < ends[i] - times[0]


def test_every_needed_frame_is_decoded_once_and_only_one_window_is_held(tmp_path, tiny):
    path = str(tmp_path / "v.mp4")
    write_video(path, np.stack([index_frame(i) for i in range(120)]), fps=10, keyframe_interval=30)
    reader, _ = open_frames(path, fps=None, backend="pyav")
    layout = plan_windows(reader.frame_times(), 8, 2.0, 0.5)
    seen = []

    def transform(image):
        seen.append(read_index(image))
        return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float()

    windows = list(window_views(reader, layout, transform))
    needed = sorted({i for p in layout.windows for i in p.indices})
    assert seen == needed  # each once, in order
    assert [w for _, w in windows] == list(range(len(layout.windows)))
    for views, w in windows:
        assert views.shape[:2] == (1, 8)
        shown = [read_index(views[0, t].permute(1, 2, 0).byte().numpy()) for t in range(8)]
        assert shown == list(layout.windows[w].indices)


def test_in_memory_frames_score_like_the_file(tmp_path, tiny):
    frames = np.stack([index_frame(i) for i in range(60)])
    path = str(tmp_path / "v.mkv")
    write_video(path, frames, fps=12, codec="ffv1", pix_fmt="bgr0")  # lossless
    from_file = localize(tiny, path, ["a", "b", "c"], window_s=1.5)
    in_memory = localize(tiny, frames, ["a", "b", "c"], window_s=1.5, fps=12)
    assert [w.frame_indices for w in from_file.windows] == [w.frame_indices for w in in_memory.windows]
    torch.testing.assert_close(from_file.probabilities, in_memory.probabilities)
    assert from_file.probabilities.sum(1).sub(1).abs().max() < 1e-5
    assert tiny.localize(frames, ["a", "b", "c"], window_s=1.5, fps=12).probabilities.equal(in_memory.probabilities)


def test_windows_cover_the_video_with_the_last_aligned_to_its_end():
    times = frame_times_from_rate(100, 10.0)  # 10 s
    layout = plan_windows(times, 8, 3.0, 2.0)
    begins = [w.indices[0] for w in layout.windows]
    assert len(layout.windows) == 5 and layout.notes == ()  # 0, 2, 4, 6 and the tail at 7
    assert layout.windows[-1].indices[0] == 70 + 1  # the tail window starts at 7 s: its first centre is 7.1875 s
    assert layout.windows[-1].end == pytest.approx(9.9) and begins == sorted(begins)


def test_a_video_shorter_than_one_window_is_one_window_with_a_warning(tiny):
    frames = np.stack([index_frame(i) for i in range(10)])
    with pytest.warns(LocalizationWarning, match="not longer than one window"):
        result = localize(tiny, frames, ["a", "b"], fps=10, window_s=4.0)
    assert len(result.windows) == 1 and result.windows[0].start == 0.0 and result.windows[0].end == pytest.approx(1.0)
    assert result.notes


def test_a_stride_longer_than_the_video_scores_its_first_and_last_window(tiny):
    frames = np.stack([index_frame(i) for i in range(50)])
    with pytest.warns(LocalizationWarning, match="longer than the video"):
        result = localize(tiny, frames, ["a", "b"], fps=10, window_s=2.0, stride_s=30.0)
    assert len(result.windows) == 2 and result.windows[-1].end == pytest.approx(
        4.9
    )  # its last centre (4.875 s) shows frame 48


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"stride_s": 0}, ValueError, "stride_s"),
        ({"stride_s": -1.0}, ValueError, "stride_s"),
        ({"window_s": float("nan")}, ValueError, "window_s"),
        ({"window_s": "2"}, TypeError, "window_s"),
        ({"min_score": 1.5}, ValueError, "min_score"),
        ({"min_score": 0.4, "keep_score": 0.6}, ValueError, "keep_score"),
        ({"background": ["a"]}, ValueError, "also listed"),
        ({"num_clips": 2}, ValueError, "num_clips"),
    ],
)
def test_bad_arguments_are_named(tiny, kwargs, error, match):
    frames = np.zeros((30, 48, 160, 3), np.uint8)
    with pytest.raises(error, match=match):
        localize(tiny, frames, ["a", "b"], fps=10, **kwargs)


def test_zero_classes_and_missing_fps_are_clear_errors(tiny):
    frames = np.zeros((30, 48, 160, 3), np.uint8)
    with pytest.raises(ValueError, match="class"):
        localize(tiny, frames, [], fps=10)
    with pytest.raises(ValueError, match="fps"):
        localize(tiny, frames, ["a", "b"])


def test_segment_rule_hysteresis_background_and_durations():
    names = ["run", "jump", "nothing"]
    p = torch.tensor(
        [
            [0.1, 0.1, 0.8],
            [0.7, 0.2, 0.1],
            [0.45, 0.1, 0.45],
            [0.8, 0.1, 0.1],
            [0.1, 0.1, 0.8],
            [0.1, 0.1, 0.8],
            [0.1, 0.6, 0.3],
            [0.1, 0.1, 0.8],
        ]
    )
    starts = [float(i) for i in range(8)]
    cells = window_cells(starts, [s + 1.0 for s in starts], 8.0)
    assert cells[0] == (0.0, 1.0) and cells[-1] == (7.0, 8.0)
    spans = [(s, s + 2.0) for s in starts]
    wide = find_segments(spans, p, names, SegmentRule(background=("nothing",), keep_score=0.4))
    assert [(s.label, s.start, s.end) for s in wide] == [("run", 1.0, 5.0), ("jump", 6.0, 8.0)]
    by_cells = find_segments(
        spans, p, names, SegmentRule(background=("nothing",), keep_score=0.4, extent="cells"), duration=9.0
    )
    assert [(s.label, s.start, s.end) for s in by_cells] == [("run", 1.5, 4.5), ("jump", 6.5, 7.5)]
    plain = find_segments(cells, p, names, SegmentRule(background=("nothing",)))
    assert [(s.label, s.start, s.end) for s in plain] == [("run", 1.0, 2.0), ("run", 3.0, 4.0), ("jump", 6.0, 7.0)]
    held = find_segments(cells, p, names, SegmentRule(background=("nothing",), keep_score=0.4))
    assert [(s.label, s.start, s.end) for s in held] == [("run", 1.0, 4.0), ("jump", 6.0, 7.0)]
    assert held[0].score == pytest.approx((0.7 + 0.45 + 0.8) / 3)
    merged = find_segments(cells, p, names, SegmentRule(background=("nothing",), merge_gap_s=1.0))
    assert [(s.label, s.start, s.end) for s in merged][0] == ("run", 1.0, 4.0)
    long_only = find_segments(cells, p, names, SegmentRule(background=("nothing",), keep_score=0.4, min_duration_s=2.0))
    assert [s.label for s in long_only] == ["run"]
    assert find_segments(cells, p, names, SegmentRule(background=("nothing",), min_score=0.9)) == []
    margin = find_segments(cells, p, names, SegmentRule(background=("nothing",), min_margin=0.55))
    assert [(s.label, s.start) for s in margin] == [("run", 3.0)]
    with pytest.raises(ValueError, match="not among the classes"):
        find_segments(cells, p, names, SegmentRule(background=("idle",)))


def test_resegment_applies_another_rule_without_the_model(tiny):
    frames = np.stack([index_frame(i) for i in range(80)])
    result = localize(tiny, frames, ["a", "b"], fps=10, min_score=0.0)
    assert {s.label for s in result.segments} <= {"a", "b"} and result.segments
    top = result.segments[0].label
    quiet = result.resegment(background=(top,), min_score=0.99)
    assert all(s.label != top for s in quiet.segments) and quiet.probabilities is result.probabilities
    record = result.to_dict()
    assert set(record) >= {"windows", "segments"} and len(record["windows"]) == len(result.windows)
    assert set(record["windows"][0]) >= {"start", "end", "probabilities"}
    assert record["segments"][0]["label"] == top


def test_cli_json_csv_and_timeline_plot(tmp_path, capsys):
    path = str(tmp_path / "v.mp4")
    write_video(path, np.stack([index_frame(i) for i in range(60)]), fps=10)
    base = ["localize", path, "-m", "ezclip-test-tiny", "-l", "a", "-l", "b", "--no-progress", "--no-text-cache"]
    assert main(base + ["--json", "--min-score", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["windows"]) == 5 and out["segments"]  # 6 s, 2 s windows every 1 s
    assert set(out["windows"][0]["probabilities"]) == {"a", "b"}
    assert set(out["segments"][0]) == {"label", "start", "end", "score"}
    png = tmp_path / "timeline.png"
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps([{"label": "a", "start": 1.0, "end": 3.0}]))
    assert main(base + ["--csv", "--min-score", "0", "--plot", str(png), "--truth", str(truth)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "label,start,end,score" and len(lines) == 1 + len(out["segments"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit):
        main(base + ["--json", "--csv"])
    assert main(["localize", path, "-m", "ezclip-test-tiny", "--no-progress"]) == 1  # no classes: a clear error
    assert "no class names" in capsys.readouterr().err


_RSS_SCRIPT = r"""
import resource, sys, torch, numpy as np
torch.set_num_threads(1)
import ezclip_zoo
torch.manual_seed(0)
model = ezclip_zoo.create_model("ezclip-test-tiny", pretrained_backbone=False)
result = model.localize(sys.argv[1], ["a", "b"], window_s=2.0, stride_s=2.0, batch_size=16)
print(len(result.windows), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.subprocess
@pytest.mark.slow
def test_memory_stays_bounded_from_one_to_ten_minutes(tmp_path):
    def frames(n):
        rng = np.random.default_rng(0)
        for _ in range(n):
            yield rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)

    peaks = {}
    for minutes in (1, 10):
        path = str(tmp_path / f"{minutes}min.mp4")
        write_video(path, frames(minutes * 60 * 8), fps=8, keyframe_interval=64)
        out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, path], capture_output=True, text=True, check=True)
        windows, rss = map(int, out.stdout.split())
        assert windows == minutes * 30
        peaks[minutes] = rss
    assert abs(peaks[10] - peaks[1]) <= 0.05 * peaks[1], peaks


# ---------------------------------------------------------------------------- a trained model on known truth
def test_the_trained_model_finds_every_true_segment_and_nothing_on_background(motion_model):
    check_localization(motion_model)  # the same assertions hold for every seed of the recipe (test_motion_model.py)


def test_long_videos_are_a_function_of_their_seed_and_truth_marks_the_motion():
    from ezclip_zoo.synthetic import frame_labels, render_long_video

    config = window_config()
    a, b = render_long_video(config, 3), render_long_video(config, 3)
    assert np.array_equal(a.frames, b.frames) and a.segments == b.segments
    labels = frame_labels(a)
    assert labels.count(None) > 0 and len(labels) == a.frames.shape[0]
    moving = np.abs(np.diff(a.frames.astype(np.int16), axis=0)).sum(axis=(1, 2, 3)) > 0  # frame i -> i + 1 changes
    for s in a.segments:
        assert moving[s.start_frame : s.end_frame - 1].all()  # the shape moves throughout a true segment
    still = [i for i in range(len(moving)) if labels[i] is None and labels[i + 1] is None]
    assert np.mean(moving[still]) < 0.1  # background only changes at its one cut


def test_the_timeline_draws_the_rows_asked_for(tmp_path, tiny):
    from PIL import Image

    from ezclip_zoo.figures.timeline import save_timeline

    result = localize(tiny, torch.rand(20, 32, 32, 3), ["a", "b", "c"], fps=10, window_s=1.0)
    every = Image.open(save_timeline(result, tmp_path / "all.png"))
    two = Image.open(save_timeline(result, tmp_path / "two.png", classes=["c", "a"]))
    assert two.height < every.height  # 0.55 inch a row
    with pytest.raises(ValueError, match="were not scored"):
        save_timeline(result, tmp_path / "x.png", classes=["d"])
