"""The segment rule fed one window at a time (`SegmentTracker`) gives the offline rule's segments, and decides each
one as soon as the windows seen make it certain: property tests (hypothesis) against the batch rule as it was
written before it became a state machine."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ezclip_zoo.localization import SegmentRule, SegmentTracker, find_segments, window_cells
from ezclip_zoo.localization.segments import Segment


def _reference_runs(probs, top2, c, rule):
    p = probs[:, c].tolist()
    if top2 is not None:
        values, indices = top2
        best_other = torch.where(indices[:, 0] == c, values[:, 1], values[:, 0])
        lead = (probs[:, c] - best_other).tolist()
    else:
        lead = [1.0] * len(p)
    runs, open_at = [], None
    for w, (pw, lw) in enumerate(zip(p, lead, strict=True)):
        if open_at is None:
            if pw >= rule.min_score and lw >= rule.min_margin:
                open_at = w
        elif pw < rule._keep:
            runs.append((open_at, w - 1))
            open_at = None
    if open_at is not None:
        runs.append((open_at, len(p) - 1))
    return runs


def reference_segments(spans, probs, class_names, rule, duration=None):
    """`find_segments` as it was before the state machine (the batch rule, verbatim)."""
    if rule.extent == "cells":
        spans = window_cells(
            [a for a, _ in spans], [b for _, b in spans], duration if duration is not None else spans[-1][1]
        )
    segments = []
    top2 = None
    if probs.shape[1] > 1:
        best = probs.topk(2, dim=1)
        top2 = (best.values, best.indices)
    for c, name in enumerate(class_names):
        if name in rule.background:
            continue
        merged = []
        for i, j in _reference_runs(probs, top2, c, rule):
            if merged and spans[i][0] - spans[merged[-1][1]][1] <= rule.merge_gap_s:
                merged[-1][1] = j
            else:
                merged.append([i, j])
        for i, j in merged:
            start, end = spans[i][0], spans[j][1]
            if end - start + 1e-9 >= rule.min_duration_s and j - i + 1 >= rule.min_windows:
                segments.append(Segment(name, start, end, float(probs[i : j + 1, c].mean())))
    return sorted(segments, key=lambda s: (s.start, s.label))


NAMES = ["run", "jump", "wave", "nothing"]


@st.composite
def cases(draw):
    classes = draw(st.integers(1, 4))
    windows = draw(st.integers(1, 40))
    # probabilities on a coarse grid, so that ties, exact thresholds and equal leads happen
    raw = draw(
        st.lists(st.lists(st.integers(0, 20), min_size=classes, max_size=classes), min_size=windows, max_size=windows)
    )
    probs = torch.tensor(raw, dtype=torch.float32) / 20
    names = NAMES[:classes]
    background = tuple(draw(st.sets(st.sampled_from(names), max_size=classes - 1))) if classes > 1 else ()
    min_score = draw(st.sampled_from([0.0, 0.3, 0.5, 0.7, 0.9]))
    keep = draw(st.one_of(st.none(), st.sampled_from([0.0, 0.2, 0.4, 0.5]).filter(lambda k: k <= min_score)))
    rule = SegmentRule(
        background=background,
        min_score=min_score,
        keep_score=keep,
        min_margin=draw(st.sampled_from([0.0, 0.1, 0.3])),
        min_duration_s=draw(st.sampled_from([0.0, 1.0, 2.5, 4.0])),
        merge_gap_s=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
        min_windows=draw(st.integers(1, 4)),
        extent=draw(st.sampled_from(["windows", "cells"])),
    )
    stride = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]))
    length = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    spans = [(w * stride, w * stride + length) for w in range(windows)]
    duration = draw(st.one_of(st.none(), st.just(spans[-1][1] + draw(st.sampled_from([0.0, 0.4, 2.0])))))
    return spans, probs, names, rule, duration, stride, length


def _online(spans, probs, names, rule, duration):
    tracker = SegmentTracker(names, rule)
    events = []
    for w, ((start, end), row) in enumerate(zip(spans, probs, strict=True)):
        for event in tracker.push(start, end, row):
            events.append((w, event))
    events += [(len(spans), event) for event in tracker.flush(duration)]
    return tracker, events


@settings(max_examples=400, deadline=None, derandomize=True)
@given(cases())
def test_online_then_flushed_equals_the_offline_rule(case):
    spans, probs, names, rule, duration, _, _ = case
    expected = reference_segments(spans, probs, names, rule, duration)
    # localize's function: the same segments, scores to the bit
    assert find_segments(spans, probs, names, rule, duration) == expected
    tracker, events = _online(spans, probs, names, rule, duration)
    closed = sorted((e.segment for _, e in events if e.kind == "closed"), key=lambda s: (s.start, s.label))
    assert [(s.label, s.start, s.end) for s in closed] == [(s.label, s.start, s.end) for s in expected]
    assert [s.score for s in closed] == pytest.approx([s.score for s in expected], abs=1e-6)
    assert sorted(tracker.segments, key=lambda s: (s.start, s.label)) == closed


@settings(max_examples=300, deadline=None, derandomize=True)
@given(cases())
def test_events_are_never_taken_back_and_wait_no_longer_than_their_rule_needs(case):
    spans, probs, names, rule, duration, stride, length = case
    _, events = _online(spans, probs, names, rule, duration)
    opened = [(w, e) for w, e in events if e.kind == "opened"]
    closed = [(w, e) for w, e in events if e.kind == "closed"]
    assert len(opened) == len(closed)
    cells = rule.extent == "cells"
    last_end = spans[-1][1]
    for w, e in closed:  # one opened event before it, same label and start
        before = [(v, o) for v, o in opened if o.label == e.label and o.start == e.start]
        assert len(before) == 1 and before[0][0] <= w
        assert before[0][1].decided_at <= e.decided_at
        if w < len(spans):  # decided before the stream ended: within the lag the docs state
            bound = e.end + rule.merge_gap_s + length + stride * (2.5 if cells else 1.0)
            assert e.decided_at <= bound + 1e-6, (e, rule)
    for w, o in opened:
        if w < len(spans):
            need = max(length + (rule.min_windows - 1) * stride, rule.min_duration_s + stride)
            slack = rule.merge_gap_s + length + (2 * stride if cells else 0.0)
            assert o.decided_at - o.start <= need + slack + 1e-6, (o, rule)
        assert o.decided_at <= last_end + 1e-9


def test_a_tracker_decides_each_event_at_the_window_that_settles_it():
    names = ["run", "nothing"]
    rule = SegmentRule(background=("nothing",), min_windows=2, merge_gap_s=1.0)
    tracker = SegmentTracker(names, rule)
    rows = [[0.2, 0.8], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9], [0.1, 0.9], [0.1, 0.9]]
    decided = [
        [(e.kind, e.start, e.end) for e in tracker.push(w * 1.0, w * 1.0 + 1.0, row)] for w, row in enumerate(rows)
    ]
    # opens at the second window over 0.5 (min_windows=2); closes once a window starts over 1 s after its end (3 s)
    assert decided == [[], [], [("opened", 1.0, None)], [], [], [("closed", 1.0, 3.0)], []]
    assert tracker.flush() == [] and tracker.segments[0].score == pytest.approx(0.9)
    with pytest.raises(RuntimeError, match="flushed"):
        tracker.push(7.0, 8.0, [0.5, 0.5])


def test_flush_closes_an_open_segment_and_bad_rows_are_named():
    tracker = SegmentTracker(["a", "b"], SegmentRule())
    assert [e.kind for e in tracker.push(0.0, 2.0, torch.tensor([0.9, 0.1]))] == ["opened"]
    (event,) = tracker.flush()
    assert (event.kind, event.label, event.start, event.end, event.decided_at) == ("closed", "a", 0.0, 2.0, 2.0)
    assert event.to_dict() == {
        "event": "closed",
        "label": "a",
        "start": 0.0,
        "end": 2.0,
        "score": event.score,
        "decided_at": 2.0,
    }
    with pytest.raises(ValueError, match="one per class"):
        SegmentTracker(["a", "b"], SegmentRule()).push(0.0, 1.0, [1.0])
    with pytest.raises(ValueError, match="not among the classes"):
        SegmentTracker(["a"], SegmentRule(background=("idle",)))
    assert math.isclose(event.score, 0.9, rel_tol=1e-6)
