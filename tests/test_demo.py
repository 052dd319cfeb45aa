"""The web demo (`ezclip-zoo demo`), tested as a person uses it: a real headless Chromium opens the page served on a
free port of 127.0.0.1, uploads a generated video, types classes or picks a class set, presses Classify, and reads
the ranking off the page, which must equal ``model.classify`` on the same file to the precision shown. Every request
the browser makes to another host is aborted and recorded, and none may be attempted.

Screenshot for the manual (docs/demo.md): ``EZCLIP_DEMO_SCREENSHOT=docs/demo.png pytest -q tests/test_demo.py``.
"""

import math
import os
import shutil
import subprocess
import sys
import threading
from urllib.parse import urlparse

import pytest
import torch
from _helpers.browser import chromium_path, need
from _helpers.paths import REPO_ROOT
from _helpers.servers import free_port
from _helpers.video_data import make_video

import ezclip_zoo
from ezclip_zoo.cli import build_parser, main

# Gradio's queue calls a pandas option that pandas 3 deprecates: its warning, not ours
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

FREE_TEXT = ["dancing", "juggling", "riding a bike", "playing guitar", "surfing"]
CLASS_SET = "ucf101"
MAX_FILE_SIZE = "1mb"
WAIT_MS = 60_000  # generous: the machine may be busy; a run of the tiny model takes about a second


@pytest.fixture(scope="module")
def model():
    """What ``ezclip-zoo demo -m ezclip-test-tiny`` (seed 0) loads: a random tiny model, deterministic."""
    torch.manual_seed(0)
    return ezclip_zoo.create_model("ezclip-test-tiny")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """6 s at 16 fps, each frame showing its index (tests/_helpers/video_data.py)."""
    return make_video(tmp_path_factory.mktemp("demo") / "clip.mp4", 96, height=144, width=256, fps=16)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    """The demo served in this process, on a free port of 127.0.0.1, by the function the command calls."""
    need("gradio")
    from ezclip_zoo.cli.demo import random_weights_note
    from ezclip_zoo.demo import launch_demo

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))  # the uploads land here
        demo, url = launch_demo(
            model,
            model_name="ezclip-test-tiny",
            note=random_weights_note("ezclip-test-tiny", 0),
            port=free_port(),
            max_file_size=MAX_FILE_SIZE,
            block=False,
        )
        assert urlparse(url).hostname == "127.0.0.1"
        yield url
        demo.close()


@pytest.fixture(scope="module")
def browser():
    need("playwright")
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Visit:
    """A page in its own browser context whose every request to a host other than 127.0.0.1 is aborted and kept
    in ``outside`` (websockets too, which routing does not see)."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("websocket", lambda ws: self._check(ws.url))
        self.page.goto(url)
        self.page.locator("#run").wait_for(timeout=WAIT_MS)

    def _check(self, url: str) -> bool:
        local = urlparse(url).hostname == "127.0.0.1"
        if not local:
            self.outside.append(url)
        return local

    def _route(self, route) -> None:
        if self._check(route.request.url):
            route.continue_()
        else:
            route.abort()

    def upload(self, path) -> None:
        """Upload ``path`` and wait until the page shows it: a click on Run before then (a busy machine) would
        send no video."""
        with self.page.expect_response(lambda r: "/upload" in r.url, timeout=WAIT_MS):
            self.page.locator("#video input[type=file]").set_input_files(str(path))
        self.page.locator("#video video").wait_for(timeout=WAIT_MS)

    def pick_class_set(self, label: str) -> None:
        self.page.locator("#class_set input").click()
        self.page.get_by_role("option", name=label, exact=True).click()

    def run(self) -> None:
        self.page.locator("#run").click()

    def wait_for_summary(self, text: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("#summary")).to_contain_text(text, timeout=WAIT_MS)

    def chart(self) -> list[tuple[str, str]]:
        """(label, percent) pairs of the bar chart (gr.Label), top first."""
        rows = self.page.locator("#ranked dl")
        return [
            (rows.nth(i).locator("dt").inner_text().strip(), rows.nth(i).locator("dd").inner_text().strip())
            for i in range(rows.count())
        ]

    def table(self) -> list[tuple[str, str]]:
        """(class, probability) cells of the ranking table, top first."""
        rows = self.page.locator("#ranking tbody tr")
        return [
            tuple(rows.nth(i).locator("td").nth(k).inner_text().strip() for k in (1, 2)) for i in range(rows.count())
        ]

    def toast(self, containing: str) -> str:
        """The text of the first message box (toast) containing ``containing``, once it shows."""
        from playwright.sync_api import expect

        toast = self.page.locator(".toast-body", has_text=containing).first
        expect(toast).to_be_visible(timeout=WAIT_MS)
        return toast.inner_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server):
    visits = []

    def open_page() -> Visit:
        visits.append(Visit(browser, server))
        return visits[-1]

    yield open_page
    for v in visits:
        v.close()


def _shown(result) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What the page must show for a `ClassificationResult`: the chart's whole percents (rounded half up, as the
    page's Math.round) and the table's two decimals."""
    chart = [
        (label, f"{math.floor(p * 100 + 0.5)}%") for label, p in zip(result.labels, result.probabilities, strict=True)
    ]
    table = [(label, f"{p:.2%}") for label, p in zip(result.labels, result.probabilities, strict=True)]
    return chart, table


@pytest.mark.browser
@pytest.mark.slow
def test_the_page_ranks_as_classify_does_for_free_text_and_a_class_set(visit, model, video, tmp_path):
    v = visit()
    v.upload(video)

    v.pick_class_set(CLASS_SET)
    v.run()
    v.wait_for_summary(f"names of {CLASS_SET}")
    expected = model.classify(video, CLASS_SET, topk=5)
    assert (v.chart(), v.table()) == _shown(expected)
    assert len(set(expected.probabilities)) == 5 and expected.probability < 0.99  # the comparison says something

    v.pick_class_set("none: the classes typed above")
    v.page.locator("#classes textarea").fill("\n".join(FREE_TEXT))
    v.run()
    v.wait_for_summary("classes (names)")
    expected = model.classify(video, FREE_TEXT, topk=5)
    assert (v.chart(), v.table()) == _shown(expected)
    for element in ("#frames img", "#overlay img", "#timeline img"):  # the frames, the maps and the timeline
        assert v.page.locator(element).first.is_visible()
    assert v.page.locator("#frames img").count() >= model.num_frames

    v.page.wait_for_timeout(500)  # let the images finish painting
    v.page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
    if os.environ.get("EZCLIP_DEMO_SCREENSHOT"):
        shutil.copyfile(tmp_path / "demo.png", os.environ["EZCLIP_DEMO_SCREENSHOT"])
    assert v.outside == []


@pytest.mark.browser
@pytest.mark.slow
def test_a_corrupt_file_an_oversized_one_and_no_classes_give_a_message_in_the_page(visit, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(os.urandom(20_000))
    v = visit()
    v.upload(broken)
    v.run()
    message = v.toast("could not be read as a video")
    assert "broken.mp4" in message
    assert "Traceback" not in v.page.content() and os.environ["GRADIO_TEMP_DIR"] not in message  # no server path

    v.page.reload()
    v.page.locator("#run").wait_for()
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(1_100_000))  # over the server's 1 MB limit: refused before it is sent
    v.page.locator("#video input[type=file]").set_input_files(str(big))
    assert "1.0 Mb" in v.toast("maximum allowed size") and "big.mp4" in v.toast("maximum allowed size")

    v.page.reload()
    v.page.locator("#run").wait_for()
    v.run()
    v.toast("Upload a video first")
    assert v.outside == []


@pytest.mark.browser
@pytest.mark.slow
def test_a_second_page_opened_during_a_run_loads_and_shows_its_place_in_the_queue(visit, video, monkeypatch):
    from playwright.sync_api import expect

    from ezclip_zoo.demo import analysis

    entered, release = threading.Event(), threading.Event()
    real = analysis.analyse

    def held(*args, **kwargs):  # the first request waits until the test lets it go: a run that lasts
        if not entered.is_set():
            entered.set()
            release.wait(WAIT_MS / 1000)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "analyse", held)
    first = visit()
    first.upload(video)
    first.run()
    assert entered.wait(WAIT_MS / 1000)
    try:
        second = visit()  # opened while the first request runs: the page loads
        second.upload(video)
        second.run()
        expect(second.page.get_by_text("queue: 1/1", exact=False).first).to_be_visible(timeout=WAIT_MS)
    finally:
        release.set()
    first.wait_for_summary("classes (names)")
    second.wait_for_summary("classes (names)")
    assert first.table() == second.table() and first.outside == second.outside == []


def test_the_command_answers_help_and_binds_localhost_by_default(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0 and "ezclip-zoo demo" in capsys.readouterr().out
    args = build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.model) == ("127.0.0.1", 7860, "ezclip-b16-k400")


def test_the_command_loads_the_model_once_and_serves_it(monkeypatch, capsys):
    need("gradio")
    import ezclip_zoo.demo.app as app

    calls = []

    class Served:
        def block_thread(self):
            calls.append("blocked")

    def fake_launch(model, **kwargs):
        calls.append((model, kwargs))
        return Served(), f"http://{kwargs['host']}:{kwargs['port']}/"

    monkeypatch.setattr(app, "launch_demo", fake_launch)
    assert main(["demo", "-m", "ezclip-test-tiny", "--port", "7999", "--host", "0.0.0.0"]) == 0
    (model, kwargs), blocked = calls
    assert isinstance(model, ezclip_zoo.EZCLIP) and blocked == "blocked"
    assert kwargs["host"] == "0.0.0.0" and kwargs["port"] == 7999 and "random weights" in kwargs["note"]
    err = capsys.readouterr().err
    assert "anyone who can reach this machine" in err and "http://0.0.0.0:7999/" in err


def test_without_gradio_the_command_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # `import gradio` raises ImportError
    assert main(["demo", "-m", "ezclip-test-tiny"]) == 1
    assert 'pip install "ezclip-zoo[demo]"' in capsys.readouterr().err


@pytest.mark.subprocess
def test_importing_the_package_and_the_command_imports_no_gradio():
    code = "import sys, ezclip_zoo, ezclip_zoo.demo, ezclip_zoo.cli.demo; assert 'gradio' not in sys.modules"
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=REPO_ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def test_typed_classes_are_read_one_per_line_or_comma():
    from ezclip_zoo.demo import demo_classes, parse_class_text

    assert parse_class_text(" dancing,\n\njuggling , riding a bike\n") == ["dancing", "juggling", "riding a bike"]
    assert demo_classes("a, b", "") == ["a", "b"] and demo_classes("ignored", "UCF-101") == "ucf101"
    with pytest.raises(ValueError, match="no classes"):
        demo_classes(" , \n", None)


def test_the_manual_shows_a_screenshot_made_by_the_test():
    page = (REPO_ROOT / "docs" / "demo.md").read_text()
    path = REPO_ROOT / "docs" / "demo.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size < 600_000
    assert "](demo.png)" in page and "EZCLIP_DEMO_SCREENSHOT=docs/demo.png pytest" in page
