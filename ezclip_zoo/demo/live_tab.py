"""The demo's Live tab: the browser's webcam streamed to the server (Gradio's streaming image input), each
browser session scored by its own `LiveSession` as `watch` scores a stream; the page shows the newest window's top
classes and the last segment events.

The browser sends a frame every `STREAM_EVERY` seconds while the previous one is not still being scored (so a slow
server lowers the frame rate rather than building a backlog); a frame's arrival on the server is its stream time.
A stream lasts at most `TIME_LIMIT_S`; changing the classes or an option, or a pause of more than `RESTART_S`
(the webcam stopped and started again), starts a new stream: stream time from 0, new segments and events.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EZCLIPError
from .analysis import parse_class_text
from .live import LiveSession

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["live_tab", "STREAM_EVERY", "TIME_LIMIT_S", "RESTART_S", "LIVE_STREAMS", "TOP_CLASSES"]

STREAM_EVERY = 0.1  # seconds between the frames the browser sends (10 per second at most)
TIME_LIMIT_S = 600  # a stream ends after this long (the page's record button starts another)
RESTART_S = 5.0  # a pause longer than this starts a new stream
LIVE_STREAMS = 4  # streams scored at the same time (each holds a slot of the queue while it lasts)
TOP_CLASSES = 5
_Key = tuple[tuple[str, ...], float, float, float]  # what a session was made for: classes, window, stride, min score
_State = tuple[_Key, LiveSession] | None
_LOG = logging.getLogger(__name__)


def events_markdown(session: LiveSession) -> str:
    """What the events box shows: a line on the stream, then the segment events, newest first."""
    grid = session.grid
    lines = [
        f"Stream {session.stream_s:.1f} s: {session.scored} windows of {grid.window_s:g} s every {grid.stride_s:g} s "
        f"scored ({session.skipped} passed over)"
        + (f", latency {session.latest.latency_s * 1000:.0f} ms." if session.latest else ".")
    ]
    for e in reversed(session.events):
        label = html.escape(e.label)
        if e.kind == "opened":
            lines.append(f"- `{e.decided_at:.1f} s` opened **{label}** at {e.start:.1f} s")
        else:
            lines.append(f"- `{e.decided_at:.1f} s` closed **{label}** {e.start:.1f} to {e.end:.1f} s ({e.score:.2f})")
    if not session.events:
        lines.append(f"No segment yet (a class opens one at probability {session.rule.min_score:g}).")
    return "\n".join(lines)


def _handler(
    model: EZCLIP, gr: ModuleType, clock: Callable[[], float] = time.monotonic
) -> Callable[[np.ndarray | None, str, float, float, float, _State], tuple[Any, Any, _State]]:
    """The stream function: a frame and the tab's settings -> the top classes, the events and the session (a frame
    arrives at ``clock()``)."""

    def step(
        frame: np.ndarray | None, typed: str, window_s: float, stride_s: float, min_score: float, state: _State
    ) -> tuple[Any, Any, _State]:
        if frame is None:
            return gr.skip(), gr.skip(), state
        now = clock()
        try:
            classes = tuple(parse_class_text(typed or ""))
            if not classes:
                raise ValueError("Type the classes to look for (one per line, or separated by commas).")
            key = (classes, float(window_s), float(stride_s), float(min_score))
            if state is None or state[0] != key or now - (state[1].last_arrival or now) > RESTART_S:
                session = LiveSession(model, classes, window_s=key[1], stride_s=key[2], min_score=key[3])
                state = (key, session)
            state[1].push(np.ascontiguousarray(frame[..., :3]), now)
        except (EZCLIPError, ValueError, TypeError, LookupError) as exc:
            return {}, html.escape(str(exc)), None
        except Exception as exc:  # a bug: one line in the page, the traceback in the server's log
            _LOG.exception("the live tab failed")
            return (
                {},
                f"The live tab failed unexpectedly ({type(exc).__name__}); the server's log has the details.",
                None,
            )
        return state[1].top(TOP_CLASSES), events_markdown(state[1]), state

    return step


def live_tab(gr: ModuleType, model: EZCLIP) -> None:
    """The Live tab's components and its stream event (call inside a ``gr.Blocks``)."""
    gr.Markdown(
        "Start the camera: every frame is scored as `ezclip-zoo watch` scores a stream, one window of the "
        "model's frames as each closes, and segments open and close by the rule of `localize`.",
        elem_id="live_intro",
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            camera = gr.Image(
                label="Camera",
                sources=["webcam"],
                streaming=True,
                type="numpy",
                elem_id="live_camera",
                height=300,
                webcam_options=gr.WebcamOptions(mirror=False),  # score what the camera sees, not a mirror image
            )
            typed = gr.Textbox(
                label="Classes",
                lines=3,
                elem_id="live_classes",
                placeholder="one per line, or separated by commas",
                value="waving a hand\nclapping\ndrinking\ntalking on the phone",
            )
            with gr.Accordion("Options", open=False):
                window = gr.Slider(0.5, 10.0, value=2.0, step=0.5, label="window (s)", elem_id="live_window")
                stride = gr.Slider(0.25, 5.0, value=0.5, step=0.25, label="every (s)", elem_id="live_stride")
                min_score = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="segment opens at", elem_id="live_min")
        with gr.Column(scale=3):
            top = gr.Label(label="Now", num_top_classes=TOP_CLASSES, elem_id="live_top", show_heading=False)
            events = gr.Markdown("Start the camera to see the segments.", elem_id="live_events")
    state = gr.State(None)
    camera.stream(
        _handler(model, gr),
        [camera, typed, window, stride, min_score, state],
        [top, events, state],
        stream_every=STREAM_EVERY,
        time_limit=TIME_LIMIT_S,
        concurrency_limit=LIVE_STREAMS,
        concurrency_id="live",
        show_progress="hidden",
    )
