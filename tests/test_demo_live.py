"""The demo's live tab: webcam frames scored as `watch` scores a stream.

Without a browser, `LiveSession` (ezclip_zoo/demo/live.py) is fed a video's frames at their times: its windows close
at the stream times of `watch`'s grid, their probabilities equal `watch`'s on the same file, and the frames it keeps
stay bounded however long the stream runs. With a browser, a headless Chromium whose fake camera plays a generated
y4m streams to the page's Live tab, which shows the running top classes and the segment events.

Screenshot for the manual (docs/demo.md): ``EZCLIP_DEMO_LIVE_SCREENSHOT=docs/demo-live.png pytest -q
tests/test_demo_live.py``.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlparse

import numpy as np
import pytest
import torch
from _helpers.browser import chromium_path, need
from _helpers.servers import free_port
from _helpers.webcam import LocalVisit, moving_frames, write_y4m

import ezclip_zoo
from ezclip_zoo.demo.live import LiveSession

pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")  # pandas 3 deprecation inside Gradio's queue

CLASSES = ["waving a hand", "clapping"]
FPS = 10
WAIT_MS = 90_000  # generous: the machine is shared and the first window needs window_s of stream


@pytest.fixture(scope="module")
def model():
    """What ``ezclip-zoo demo -m ezclip-test-tiny`` (seed 0) loads: a random tiny model, deterministic."""
    torch.manual_seed(0)
    return ezclip_zoo.create_model("ezclip-test-tiny")


def test_windows_close_at_the_grid_times_and_score_as_watch_does(model, tmp_path):
    from ezclip_zoo.live import watch
    from ezclip_zoo.video import write_video

    frames = moving_frames(40, height=48, width=64)  # 4 s at 10 fps
    path = tmp_path / "clip.mp4"
    write_video(path, frames, fps=FPS, crf=0)
    expected = [e for e in watch(model, path, CLASSES, pace=8.0, timeout_s=5.0) if e.kind == "window"]

    import av

    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    session = LiveSession(model, CLASSES, window_s=2.0, stride_s=0.5)
    got, closed_at = [], []
    for i, image in enumerate(decoded):
        for event in session.push(image, arrival=100.0 + i / FPS):  # stream time: seconds since the first frame
            if event.kind == "window":
                got.append(event)
                closed_at.append(i / FPS)
    # window k covers [0.5 k, 0.5 k + 2); it closes at the first frame after its last sampled instant
    assert [w.index for w in got] == list(range(5)) and session.skipped == 0
    assert closed_at == pytest.approx([1.9 + 0.5 * k for k in range(5)])
    # watch's windows on the grid (its last, aligned to the end of the file, has index -1); those that closed
    # while its model was busy are skipped there, so compare the ones it scored
    scored = {w.index: w for w in expected if w.index >= 0}
    assert len(scored) >= 2 and set(scored) <= {w.index for w in got}
    for ours, theirs in ((w, scored[w.index]) for w in got if w.index in scored):
        assert ours.frame_indices == theirs.frame_indices
        assert (ours.start, ours.end) == pytest.approx((theirs.start, theirs.end))
        torch.testing.assert_close(ours.probabilities, theirs.probabilities, rtol=0, atol=0)
    assert session.top(1) == {got[-1].top[0]: pytest.approx(got[-1].top[1])}


def test_a_long_stream_keeps_a_bounded_buffer_and_the_last_events(model):
    session = LiveSession(model, ["a", "b"], window_s=1.0, stride_s=0.5, min_score=0.0, max_events=3)
    image = np.zeros((24, 32, 3), np.uint8)
    kept, events = [], 0
    for i in range(600):  # 60 s at 10 fps
        image[:, i % 32] = (i * 37) % 256  # something changes on screen
        events += sum(e.kind != "window" for e in session.push(image.copy(), arrival=i / FPS))
        kept.append((len(session.ring.frames), len(session.ring.arrivals)))
    assert session.scored == 118 and session.skipped == 0  # windows 0..117 end by 59.9 s
    # a window and a stride of frames at most (those a window still to be scored may sample), at any length
    bound = int((1.0 + 0.5) * FPS) + 1
    assert max(f for f, _ in kept) <= bound and max(a for _, a in kept) <= bound
    assert len(session.scorer._cache) <= model.num_frames  # transformed frames: the last window's
    assert len(session.events) <= 3 and events >= 1


def test_several_windows_closing_between_two_frames_score_the_newest(model):
    session = LiveSession(model, CLASSES, window_s=1.0, stride_s=0.25)
    image = np.full((24, 32, 3), 128, np.uint8)
    for t in (0.0, 0.5, 1.0):
        session.push(image, arrival=t)
    (window,) = session.push(image, arrival=2.0)[:1]  # windows 1..4 closed at once: 4 is scored, 1..3 skipped
    assert window.index == 4 and window.skipped == 3 == session.skipped - 0
    assert session.push(image, arrival=2.0) == []  # a frame not after the last one is ignored


def test_bad_settings_are_named(model):
    with pytest.raises(ValueError, match="window_s"):
        LiveSession(model, CLASSES, window_s=0)
    with pytest.raises(ValueError, match="stride_s"):
        LiveSession(model, CLASSES, stride_s=-1.0)


def test_the_stream_function_starts_a_new_stream_on_new_settings_or_a_pause(model):
    from types import SimpleNamespace

    from ezclip_zoo.demo import live_tab

    gr = SimpleNamespace(skip=lambda: "unchanged")  # all the stream function asks of Gradio
    clock = iter(i / FPS for i in range(1000))
    step = live_tab._handler(model, gr, clock=lambda: next(clock))
    frames, state = moving_frames(30, 48, 64), None
    for image in frames[:25]:  # 2.4 s: windows 0 and 1 closed
        top, shown, state = step(image, "waving a hand, clapping", 2.0, 0.5, 0.5, state)
    key, session = state
    assert set(top) == set(CLASSES) and session.scored == 2 and session.events
    assert "Stream 2.4 s: 2 windows of 2 s every 0.5 s" in shown and f"opened **{session.events[0].label}**" in shown
    _, _, state = step(frames[25], "waving a hand, clapping", 2.0, 0.5, 0.5, state)
    assert state[1] is session  # the same stream goes on
    _, _, state = step(frames[26], "clapping", 2.0, 0.5, 0.5, state)
    assert state[1] is not session and state[1].scored == 0 and state[1].scorer.class_names == ("clapping",)
    for _ in range(int(live_tab.RESTART_S * FPS) + 1):
        next(clock)  # the camera paused for longer than RESTART_S
    _, _, restarted = step(frames[27], "clapping", 2.0, 0.5, 0.5, state)
    assert restarted[1] is not state[1] and restarted[1].stream_s == 0.0
    assert step(None, "clapping", 2.0, 0.5, 0.5, restarted)[2] is restarted  # no frame: nothing changes
    top, shown, state = step(frames[28], " , ", 2.0, 0.5, 0.5, restarted)
    assert top == {} and state is None and "Type the classes" in shown


# --------------------------------------------------------------------------------------------- in the browser
@pytest.fixture(scope="module")
def camera_file(tmp_path_factory):
    """8 s of a moving pattern at the size the demo's camera asks for, as y4m (Chromium's fake camera loops it)."""
    return write_y4m(tmp_path_factory.mktemp("camera") / "camera.y4m", moving_frames(80, 240, 320), fps=FPS)


@pytest.fixture(scope="module")
def server(model):
    need("gradio")
    from ezclip_zoo.cli.demo import random_weights_note
    from ezclip_zoo.demo import launch_demo

    note = random_weights_note("ezclip-test-tiny", 0)
    demo, url = launch_demo(model, model_name="ezclip-test-tiny", note=note, port=free_port(), block=False)
    assert urlparse(url).hostname == "127.0.0.1"
    yield url
    demo.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_live_tab_streams_the_fake_camera_and_shows_top_classes_and_segments(model, server, camera_file, tmp_path):
    need("playwright")
    from playwright.sync_api import expect, sync_playwright

    args = [
        "--no-sandbox",
        "--use-fake-ui-for-media-stream",  # grant the camera without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_file}",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=args)
        try:
            visit = LocalVisit(browser, server, permissions=["camera"])
            page = visit.page
            page.get_by_role("tab", name="Live").click()
            page.locator("#live_classes textarea").fill("\n".join(CLASSES))
            page.locator("#live_camera").get_by_text("Click to Access Webcam").click(timeout=WAIT_MS)
            page.locator("#live_camera button", has_text="Record").click(timeout=WAIT_MS)  # start streaming
            expect(page.locator("#live_events")).to_contain_text("opened", timeout=WAIT_MS)
            expect(page.locator("#live_top")).to_contain_text(CLASSES[0], timeout=WAIT_MS)
            shown = page.locator("#live_top").inner_text()
            assert all(c in shown for c in CLASSES) and "%" in shown
            events = page.locator("#live_events").inner_text()
            assert any(f"opened {c}" in events for c in CLASSES)
            page.wait_for_timeout(1000)  # a few more windows on the page
            page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
            if os.environ.get("EZCLIP_DEMO_LIVE_SCREENSHOT"):
                shutil.copyfile(tmp_path / "live.png", os.environ["EZCLIP_DEMO_LIVE_SCREENSHOT"])
            assert visit.outside == []
        finally:
            browser.close()


def test_the_manual_shows_the_live_tab_as_the_test_saw_it():
    from _helpers.paths import REPO_ROOT

    page = (REPO_ROOT / "docs" / "demo.md").read_text()
    path = REPO_ROOT / "docs" / "demo-live.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 400_000
    assert "](demo-live.png)" in page and "EZCLIP_DEMO_LIVE_SCREENSHOT=docs/demo-live.png pytest" in page
