"""`watch`: a live stream in, actions out as they happen.

A capture thread decodes the source into a ring buffer (`capture`); the caller's thread scores the newest
complete window with the one zero-shot scoring of `classify` (text embeddings computed once), skipping the windows
that completed while the model was busy (counted, never queued), and feeds each score to the incremental segment
rule (`SegmentTracker`), so segment events come out as soon as the rule can decide them.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import torch
from typing_extensions import Unpack

from ..inference.classification import label_set_for
from ..inference.options import InferenceKwargs, InferenceOptions, make_options
from ..inference.scoring import score_views
from ..inference.views import encode_views, eval_mode
from ..localization.pipeline import with_background
from ..localization.segments import SegmentEvent, SegmentRule, SegmentTracker
from ..localization.windows import check_seconds
from ..text.cache import TextEmbeddingCache, text_features
from ..text.labels import ClassNames
from .capture import CaptureThread, FrameRing, LiveFrame, RingGap
from .grid import WindowGrid
from .results import GapEvent, LatencyStats, WatchSummary, WindowResult
from .sources import LiveSource, describe_source

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["watch", "LiveWatch", "WindowScorer"]

_EPS = 1e-6
Event = WindowResult | SegmentEvent | GapEvent


class LiveWatch:
    """An iterator of `WindowResult` (as each window closes), `SegmentEvent` (``opened`` / ``closed``) and
    `GapEvent` (an outage the source came back from) over a live source; made by `watch`. Use it as a context
    manager: leaving it stops the capture, closes the segments still open and keeps their events in
    ``closing_events``.

    `stop` (safe from another thread or a signal handler) ends the iteration after the closing events; the
    source ending does too. ``summary`` says how it went (windows scored and skipped, latency).
    """

    def __init__(
        self,
        model: EZCLIP,
        source: str | os.PathLike,
        class_names: str | ClassNames,
        rule: SegmentRule,
        grid: WindowGrid,
        options: InferenceOptions,
        *,
        pace: float | None,
        follow: bool,
        windows: bool,
        timeout_s: float,
        duration_s: float | None,
        max_windows: int | None,
        text_args: dict[str, Any],
    ) -> None:
        self.model, self.rule, self.grid, self.options = model, rule, grid, options
        if isinstance(source, LiveSource) and (pace is not None or follow):
            raise ValueError("give pace and follow to describe_source() when passing a LiveSource, not to watch()")
        self.source = describe_source(source, pace=pace, follow=follow)
        self.scorer = WindowScorer(model, class_names, rule, options, text_args)
        self.labels, self.text, self.class_names = self.scorer.labels, self.scorer.text, self.scorer.class_names
        self.tracker = SegmentTracker(self.class_names, rule)
        self.ring = FrameRing(grid)
        self.capture = CaptureThread(self.source, self.ring, timeout_s=timeout_s)
        self._windows, self._duration_s, self._max_windows = windows, duration_s, max_windows
        self._events: deque[Event] = deque()
        self._last_k, self._last_end, self._tail_done = -1, 0.0, False
        self._floor, self._resumed = 0, 0.0  # the first window after the last gap, and where that gap ended
        self._interrupted, self._gap_closed, self._gaps, self._gap_s = False, 0, 0, 0.0
        self._closed_before = self._window_offset = 0  # segments and windows of the trackers before the last gap
        self._stop = self._done = False
        self._latency = LatencyStats()
        self._scored = self._skipped = 0
        self.closing_events: list[SegmentEvent] = []

    # ------------------------------------------------------------------ the iterator and its life cycle
    def start(self) -> LiveWatch:
        """Start the capture thread (the first `next` or ``with`` does); returns self."""
        if not self.capture.is_alive() and self.capture.ident is None:
            self.capture.start()
        return self

    def __enter__(self) -> LiveWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        self.start()
        while not self._events:
            if self._done:
                raise StopIteration
            self._advance()
        return self._events.popleft()

    def stop(self) -> None:
        """End the watch: the iteration yields the events that close the open segments, then stops."""
        self._stop = True
        self.capture.stop()
        with self.ring.cond:
            self.ring.cond.notify_all()

    def close(self) -> list[SegmentEvent]:
        """Stop the capture and close the open segments; returns (and keeps in ``closing_events``) their events."""
        self.stop()
        if not self._done:
            self._finish()
            self.closing_events = [e for e in self._events if isinstance(e, SegmentEvent)]
            self._events.clear()
        self.capture.join(timeout=2.0)
        return self.closing_events

    @property
    def summary(self) -> WatchSummary:
        """Windows scored and skipped, latency median / p95 / max (seconds), segments, stream seconds, frames."""
        return WatchSummary(
            source=self.source.name,
            windows=self._scored,
            skipped=self._skipped,
            latency_median_s=self._latency.quantile(0.5),
            latency_p95_s=self._latency.quantile(0.95),
            latency_max_s=self._latency.maximum if self._latency.count else None,
            segments=self._closed_before + len(self.tracker.segments),
            stream_s=max(self.ring.newest, self.ring.end_time, 0.0),
            frames=self.ring.received,
            restarts=self.capture.clock.epochs,
            gaps=self._gaps,
            gap_s=self._gap_s,
            error=None if self.ring.error is None else f"{type(self.ring.error).__name__}: {self.ring.error}",
        )

    # ------------------------------------------------------------------ one step
    def _advance(self) -> None:
        step = self._next_step()
        if step is None:
            self._finish()
        elif isinstance(step, RingGap):
            self._events.extend(self._interrupt())
        elif isinstance(step, GapEvent):
            self._events.append(step)
        else:
            k, points, frames, arrival = step
            result = self._score(k, frames, arrival)
            if self._windows:
                self._events.append(result)
            self._events.extend(self._tracked(self.tracker.push(result.start, result.end, result.probabilities)))
            if (self._max_windows is not None and self._scored >= self._max_windows) or (
                self._duration_s is not None and result.end >= self._duration_s
            ):
                self.stop()

    def _tracked(self, events: list[SegmentEvent]) -> list[SegmentEvent]:
        """Events of the current tracker with window indices counted from the start of the stream."""
        if not self._window_offset:
            return events
        shift = self._window_offset
        return [replace(e, first_window=e.first_window + shift, last_window=e.last_window + shift) for e in events]

    def _interrupt(self) -> list[SegmentEvent]:
        """The source was lost: close the open segments at the last window before the gap, and start a new
        tracker for what comes after it."""
        events = self._tracked(self.tracker.flush())
        self._closed_before += len(self.tracker.segments)
        self._window_offset += self.tracker.windows
        self.tracker = SegmentTracker(self.class_names, self.rule)
        self._gap_closed = sum(e.kind == "closed" for e in events)
        return events

    def _finish(self) -> None:
        self._done = True
        self.capture.stop()
        self._events.extend(self._tracked(self.tracker.flush()))

    def _window(self, last: int) -> tuple[int, list[float], list[LiveFrame], float] | None:
        """Window ``last`` when it is newer than the last one scored and after the last gap (the windows passed
        over are counted as skipped). Call under ``ring.cond``."""
        if last <= self._last_k or last < self._floor:
            return None
        self._skipped += last - max(self._last_k, self._floor - 1) - 1
        self._last_k = last
        points = self.grid.points(last)
        return last, points, self.ring.pick(points), self.ring.arrival_after(points[-1])

    def _next_step(self) -> tuple[int, list[float], list[LiveFrame], float] | RingGap | GapEvent | None:
        """What comes next: the newest complete window (index, instants, frames, arrival of the frame completing
        it); a `RingGap` when the source was lost (after the windows before it); the `GapEvent` once it is back;
        None when the watch is over."""
        ring, grid = self.ring, self.grid
        with ring.cond:
            while True:
                if self._stop:
                    return None
                if ring.ended and ring.error is not None and ring.received == 0:
                    raise ring.error
                if ring.gaps:
                    gap = ring.gaps[0]
                    if not self._interrupted:  # the stream before the gap, finished as a stream that ended
                        window = self._window(grid.last_within(gap.start)) or self._tail(gap.start)
                        if window is None:
                            self._interrupted = True
                            return gap
                        return window
                    if gap.end is not None and gap.resumed_at is not None:
                        ring.gaps.popleft()
                        self._interrupted, self._tail_done, self._resumed = False, False, gap.end
                        self._floor = max(self._floor, math.ceil(gap.end / grid.stride_s - _EPS))
                        self._gaps += 1
                        self._gap_s += max(gap.resumed_at - gap.lost_at, 0.0)
                        duration = max(gap.resumed_at - gap.lost_at, 0.0)
                        return GapEvent(gap.start, gap.end, duration, self._gap_closed)
                    if ring.ended:
                        return None
                else:
                    last = grid.last_within(ring.end_time) if ring.ended else grid.last_complete(ring.newest)
                    window = self._window(last)
                    if window is not None:
                        return window
                    if ring.ended:
                        return self._tail(ring.end_time)
                ring.cond.wait(0.1)

    def _tail(self, end: float) -> tuple[int, list[float], list[LiveFrame], float] | None:
        """At the end of a finite stream (or where the source was lost), one window aligned to its end when the
        grid left its tail unscored (as `localize` does), or a stream shorter than one window as one window."""
        covered = self.grid.begin(self._last_k) + self.grid.window_s if self._last_k >= self._floor else 0.0
        length = min(self.grid.window_s, end - self._resumed)
        if self._tail_done or not self.ring.frames or covered >= end - _EPS or length <= _EPS:
            return None
        self._tail_done = True
        points = [end - length + (m + 0.5) * length / self.grid.num_frames for m in range(self.grid.num_frames)]
        return -1, points, self.ring.pick(points), self.ring.frames[-1].arrival

    def _score(self, k: int, frames: list[LiveFrame], arrival: float) -> WindowResult:
        skipped_before = self._skipped - getattr(self, "_reported_skips", 0)
        result = self.scorer.score(k, frames, arrival, skipped=skipped_before)
        self._latency.add(result.latency_s)
        self._reported_skips, self._scored = self._skipped, self._scored + 1
        return result


class WindowScorer:
    """The zero-shot scoring of a live window, shared by `watch` and the demo's live tab: the class texts (and
    background ones) encoded once, each kept frame transformed once (frames shared by overlapping windows are
    reused), then the one scoring of `classify` over the window's T frames.

    Args:
        model: an `EZCLIP`.
        class_names: C names, a dict name -> description, or a class-set name (as in `classify`).
        rule: the `SegmentRule` whose background classes are scored after the C classes.
        options: `InferenceOptions` (transform, crops, dtype).
        text_args: ``descriptions``, ``templates``, ``text`` and ``text_cache``, as `watch` takes them.
    """

    def __init__(
        self,
        model: EZCLIP,
        class_names: str | ClassNames,
        rule: SegmentRule,
        options: InferenceOptions,
        text_args: Mapping[str, Any],
    ) -> None:
        self.model = model
        labels, self.text = label_set_for(
            model, class_names, **{k: text_args.get(k) for k in ("descriptions", "templates", "text")}
        )
        self.labels = with_background(labels, rule.background, text_args.get("templates"))
        self.class_names = tuple(self.labels.names)
        self._dtype = options.autocast_dtype(model)
        with eval_mode(model):  # once for the whole stream
            self._texts = text_features(
                model, self.labels, cache=text_args.get("text_cache", True), autocast_dtype=self._dtype
            )
        self._transform = options.transform(model)
        self._cache: dict[int, torch.Tensor] = {}

    def probabilities(self, frames: Sequence[LiveFrame]) -> torch.Tensor:
        """[C] float32: the softmax over the classes of the window made of ``frames`` (T of them, in order)."""
        cache = {f.seq: self._cache.get(f.seq) for f in frames}
        for f in frames:
            if cache[f.seq] is None:
                cache[f.seq] = self._transform(f.image)  # [num_crops, 3, S, S]
        self._cache = {seq: views for seq, views in cache.items() if views is not None}
        views = torch.stack([self._cache[f.seq] for f in frames], dim=1)  # [num_crops, T, 3, S, S]
        with eval_mode(self.model):
            features = encode_views(self.model, views, batch_size=views.shape[0], autocast_dtype=self._dtype)
            return score_views(features, self._texts, self.model.logit_scale)[0].float()

    def score(self, k: int, frames: Sequence[LiveFrame], arrival: float, *, skipped: int = 0) -> WindowResult:
        """Window ``k`` scored: its span, frames and probabilities, and its latency from ``arrival`` (the
        ``time.monotonic()`` of the frame that completed it) to now."""
        probs = self.probabilities(frames)
        return WindowResult(
            index=k,
            start=frames[0].time,
            end=frames[-1].time + frames[-1].duration,
            frame_indices=tuple(f.seq for f in frames),
            class_names=self.class_names,
            probabilities=probs,
            latency_s=max(time.monotonic() - arrival, 0.0),
            skipped=skipped,
        )


def watch(
    model: EZCLIP,
    source: str | os.PathLike,
    class_names: str | ClassNames,
    *,
    window_s: float = 2.0,
    stride_s: float = 0.5,
    background: Sequence[str] = (),
    min_score: float = 0.5,
    keep_score: float | None = None,
    min_margin: float = 0.0,
    min_duration_s: float = 0.0,
    merge_gap_s: float = 0.0,
    min_windows: int = 1,
    extent: str = "windows",
    pace: float | None = None,
    follow: bool = False,
    windows: bool = True,
    timeout_s: float = 10.0,
    duration_s: float | None = None,
    max_windows: int | None = None,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    templates: None | str | Sequence[str] = None,
    text: str | None = None,
    text_cache: bool | TextEmbeddingCache = True,
    options: InferenceOptions | None = None,
    **kwargs: Unpack[InferenceKwargs],
) -> LiveWatch:
    """Recognise actions in a live stream as they happen: windows of ``window_s`` seconds every ``stride_s``,
    scored zero-shot as each closes, and segments opened and closed by the rule of `localize`.

    Args:
        model: an `EZCLIP`.
        source: a file path (read at real-time ``pace``), ``"-"`` (stdin), a camera (``/dev/videoN``, v4l2), or a
            URL: ``tcp://HOST:PORT`` (MPEG-TS; ``?listen=1`` to wait for a publisher), ``udp://HOST:PORT``,
            ``http(s)://...`` (progressive; ``.m3u8``: HLS), ``rtsp://`` (over TCP; ``?listen=1`` to wait for a
            publisher), ``rtmp://``, ``srt://``; or a `LiveSource` from `describe_source` (FFmpeg options, a
            `ReconnectPolicy`: stall time and back-off limits).
        class_names: C names, a dict name -> description, or a class-set name (as in `classify`).
        window_s, stride_s: window length and the seconds between window starts (stream time).
        background, min_score, keep_score, min_margin, min_duration_s, merge_gap_s, min_windows, extent: the
            segment rule (`SegmentRule`), as in `localize`; each option delays events by at most what it needs
            (docs/live.md).
        pace: stream seconds per wall-clock second a file or HTTP source is released at (default 1: real time;
            higher for tests and demos; ``math.inf``: as fast as decoded); network sources and stdin come at
            their own pace (None).
        follow: ``source`` is a file still being written: read it as it grows (it ends when it stops growing
            for ``timeout_s``).
        windows: yield a `WindowResult` per scored window (False: segment events only).
        timeout_s: seconds to wait for a source to open or for the next frame before it counts as ended
            (network sources reconnect meanwhile, with the back-off of their `ReconnectPolicy`; an outage they
            come back from is one `GapEvent`). A source that never delivers a frame raises `VideoDecodeError`
            naming it within ``timeout_s`` plus about 0.1 s.
        duration_s, max_windows: stop after this much stream time or this many scored windows (None: run until
            the source ends or `LiveWatch.stop`).
        descriptions, templates, text, text_cache: the class texts, as in `classify` (encoded once).
        options / kwargs: `InferenceOptions` (num_crops, protocol, dtype; one window per forward pass).

    Returns:
        `LiveWatch`: iterate it for `WindowResult`, `SegmentEvent` and `GapEvent`; ``with`` closes open segments
        on exit.
    """
    opts = make_options(options, kwargs)
    rule = SegmentRule(
        background=tuple(background) if not isinstance(background, str) else (background,),
        min_score=min_score,
        keep_score=keep_score,
        min_margin=min_margin,
        min_duration_s=min_duration_s,
        merge_gap_s=merge_gap_s,
        min_windows=min_windows,
        extent=extent,
    )
    grid = WindowGrid(check_seconds("window_s", window_s), check_seconds("stride_s", stride_s), model.num_frames)
    if timeout_s != math.inf:  # math.inf: reconnect for ever
        check_seconds("timeout_s", timeout_s)
    check_seconds("duration_s", duration_s, allow_none=True)
    if max_windows is not None and (
        isinstance(max_windows, bool) or not isinstance(max_windows, int) or max_windows < 1
    ):
        raise ValueError(f"max_windows must be a positive int or None, got {max_windows!r}")
    text_args = {"descriptions": descriptions, "templates": templates, "text": text, "text_cache": text_cache}
    return LiveWatch(
        model,
        source,
        class_names,
        rule,
        grid,
        opts,
        pace=pace,
        follow=follow,
        windows=windows,
        timeout_s=timeout_s,
        duration_s=duration_s,
        max_windows=max_windows,
        text_args=text_args,
    )
