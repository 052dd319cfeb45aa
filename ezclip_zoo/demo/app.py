"""The demo's web page (Gradio): a video and classes in; the ranked bar chart, a table of the ranking, the sampled
frames, the attention overlay and the localisation timeline out.

Gradio is an optional extra (``pip install "ezclip-zoo[demo]"``), imported only when a page is built. The model is
loaded once, by the caller, and shared by every request; requests run one at a time through Gradio's queue, so a
page opened during a run loads at once and shows its place in the queue. The page makes no request beyond the
server it came from: no analytics, system fonts instead of web fonts, nothing from a CDN.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import ExtraNotInstalledError, EZCLIPError, VideoDecodeError

if TYPE_CHECKING:
    from ..inference.result import ClassificationResult
    from ..localization.result import LocalizationResult
    from ..modeling.model import EZCLIP

# a request's answer: chart, table, summary, frames, overlay, timeline (Gradio values; Gradio ships no types)
_Outputs = tuple[dict[str, float], str, str, list[Any], Any, Any]

__all__ = ["require_gradio", "build_demo", "launch_demo", "DEFAULT_MAX_FILE_SIZE", "LOCAL_HOSTS"]

DEFAULT_MAX_FILE_SIZE = "200mb"  # uploads above this are refused by the page, before they are sent
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_SANS = [
    "ui-sans-serif",
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "Noto Sans",
    "Liberation Sans",
    "sans-serif",
]
_MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "DejaVu Sans Mono", "monospace"]
_NO_SET = ""  # the class-set menu's first choice: use the typed classes
_CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
#ranking table {width: 100%; border: none !important; border-collapse: collapse;
                font-variant-numeric: tabular-nums;}
#ranking tr {border: none !important;}
#ranking th, #ranking td {padding: 4px 8px; text-align: left; border: none !important;
                          border-bottom: 1px solid var(--border-color-primary) !important;}
#ranking td.num, #ranking th.num {text-align: right;}
#summary p {margin: 4px 0;}
"""
_LOG = logging.getLogger(__name__)


def require_gradio() -> ModuleType:
    """The ``gradio`` module (analytics off), or `ExtraNotInstalledError` naming the extra that installs it."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported: never call home
    try:
        import gradio
    except ImportError:
        raise ExtraNotInstalledError('the demo needs Gradio: pip install "ezclip-zoo[demo]"') from None
    return gradio


def _theme(gr: ModuleType) -> Any:
    """Gradio's default look on the system's fonts: its own default would load web fonts."""
    return gr.themes.Default(
        primary_hue="indigo", secondary_hue="blue", neutral_hue="slate", font=_SANS, font_mono=_MONO
    )


def _ranking_table(result: ClassificationResult) -> str:
    """The top-k as an HTML table: rank, class, probability as `ClassificationResult` prints it, logit."""
    rows = "".join(
        f"<tr><td class='num'>{rank}</td><td>{html.escape(label)}</td><td class='num'>{prob:.2%}</td>"
        f"<td class='num'>{logit:.2f}</td></tr>"
        for rank, (label, prob, logit) in enumerate(
            zip(result.labels, result.probabilities, result.logits, strict=True), 1
        )
    )
    return (
        "<table><thead><tr><th class='num'>#</th><th>class</th><th class='num'>probability</th>"
        f"<th class='num'>logit</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _summary(result: ClassificationResult, located: LocalizationResult, seconds: float, notes: Sequence[str]) -> str:
    """A few lines under the table: what was scored, which frames, the segments found, how long it took."""
    frames = ", ".join(str(i) for i in result.frame_indices[0])
    lines = [
        f"**{html.escape(result.label)}**: {result.probability:.2%} among {len(result.class_names)} classes "
        f"({html.escape(result.text)}), in {seconds:.2f} s",
        f"Frames {frames} of {result.total_frames}.",
    ]
    segments = [s for s in located.segments if s.label in result.labels]
    if segments:
        lines.append(
            "Segments: "
            + "; ".join(f"{html.escape(s.label)} {s.start:.1f}-{s.end:.1f} s ({s.score:.2f})" for s in segments)
        )
    else:
        lines.append(f"No segment reaches probability {located.rule.min_score:g} in {len(located.windows)} windows.")
    lines += [f"Note: {html.escape(n)}" for n in notes]
    return "\n\n".join(lines)


def _message(exc: BaseException, video: str) -> str:
    """The error as the page shows it: the upload's own name instead of the server's temporary path."""
    text = str(exc).replace(str(video), os.path.basename(str(video)))
    if isinstance(exc, VideoDecodeError):
        return f"This file could not be read as a video: {text}"
    return text


def _handler(model: EZCLIP, gr: ModuleType) -> Callable[[str | None, str, str, float, float, str], _Outputs]:
    """The request function: inputs of the page -> its outputs; errors become a message in the page."""
    from . import analysis  # looked up at each request (a test may slow `analysis.analyse` down)

    def run(video: str | None, typed: str, class_set: str, topk: float, window_s: float, method: str) -> _Outputs:
        if not video:
            raise gr.Error("Upload a video first.", print_exception=False)
        try:
            classes = analysis.demo_classes(typed, class_set)
            result = analysis.analyse(model, video, classes, topk=int(topk), window_s=float(window_s), method=method)
        except (EZCLIPError, ValueError, TypeError, LookupError, OSError, ImportError) as exc:
            raise gr.Error(_message(exc, video), print_exception=False) from None
        except Exception as exc:  # a bug: the page says so in one line, the server's log has the traceback
            _LOG.exception("the demo failed on %s", video)
            raise gr.Error(
                f"The demo failed unexpectedly ({type(exc).__name__}); the server's log has the details.",
                print_exception=False,
            ) from None
        ranking = result.ranking
        return (
            dict(zip(ranking.labels, ranking.probabilities, strict=True)),
            _ranking_table(ranking),
            _summary(ranking, result.localization, result.seconds, result.notes),
            result.frames,
            gr.Image(value=result.overlay, label=f"Where the model looks: {result.method} maps for '{ranking.label}'"),
            result.timeline,
        )

    return run


def _inputs(gr: ModuleType, class_sets: Sequence[str]) -> dict[str, Any]:
    """The left column: the video, the classes, the options and the button."""
    from ..choices import EXPLAIN_METHODS as METHODS

    video = gr.Video(label="Video", sources=["upload"], elem_id="video", height=280)
    typed = gr.Textbox(
        label="Classes",
        lines=4,
        elem_id="classes",
        placeholder="one per line, or separated by commas",
        value="dancing\njuggling\nriding a bike\nplaying guitar\nsurfing",
    )
    class_set = gr.Dropdown(
        [("none: the classes typed above", _NO_SET)] + list(class_sets),
        value=_NO_SET,
        label="...or a class set",
        elem_id="class_set",
    )
    with gr.Accordion("Options", open=False):
        topk = gr.Slider(1, 10, value=5, step=1, label="classes ranked", elem_id="topk")
        window = gr.Slider(0.5, 10.0, value=2.0, step=0.5, label="localisation window (s)", elem_id="window")
        method = gr.Radio(list(METHODS), value="gradient", label="attention map", elem_id="method")
    button = gr.Button("Classify", variant="primary", elem_id="run")
    class_set.change(lambda name: gr.Textbox(interactive=not name), class_set, typed, queue=False)
    return {
        "video": video,
        "typed": typed,
        "class_set": class_set,
        "topk": topk,
        "window": window,
        "method": method,
        "button": button,
    }


def _header(model: EZCLIP, name: str) -> str:
    return (
        f"# EZ-CLIP: zero-shot action recognition\n"
        f"Upload a video, type the actions to look for (or pick a dataset's class set) and press **Classify**: "
        f"the model ranks them, shows the {model.num_frames} frames it sampled, where it looked and when each "
        f"action happens. Or open **Live** and start the camera. "
        f"Model: `{html.escape(name)}` ({model.num_frames} frames, {model.image_size} px)."
    )


def build_demo(
    model: EZCLIP, *, model_name: str = "model", note: str = "", class_sets: Sequence[str] | None = None
) -> Any:
    """The demo page as a ``gradio.Blocks`` (not yet launched), its queue set to one request at a time.

    Args:
        model: an `EZCLIP`, loaded once by the caller; every request uses it.
        model_name: how the page names the model.
        note: a line shown under the title (e.g. that an architecture's weights are random).
        class_sets: the class sets offered (default: `list_class_sets`).
    """
    gr = require_gradio()
    from ..text.class_sets import list_class_sets
    from .live_tab import live_tab

    with gr.Blocks(title=f"EZ-CLIP demo: {model_name}", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(_header(model, model_name) + (f"\n\n*{html.escape(note)}*" if note else ""), elem_id="header")
        with gr.Tab("Video", id="video_tab"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=2):
                    inputs = _inputs(gr, list_class_sets() if class_sets is None else class_sets)
                with gr.Column(scale=3):
                    chart = gr.Label(label="Ranked actions", elem_id="ranked", show_heading=False)
                    table = gr.HTML(elem_id="ranking", js_on_load=None)
                    summary = gr.Markdown(elem_id="summary")
            gallery = gr.Gallery(
                label="Sampled frames",
                columns=model.num_frames,
                height=180,
                object_fit="contain",
                elem_id="frames",
                allow_preview=True,
                interactive=False,
            )
            with gr.Row(equal_height=False):
                overlay = gr.Image(
                    label="Where the model looks", elem_id="overlay", interactive=False, type="pil", height=340
                )
                timeline = gr.Image(
                    label="When: localisation timeline", elem_id="timeline", interactive=False, type="pil", height=340
                )
            inputs["button"].click(
                _handler(model, gr),
                [inputs[k] for k in ("video", "typed", "class_set", "topk", "window", "method")],
                [chart, table, summary, gallery, overlay, timeline],
                concurrency_limit=1,
                show_progress="full",
            )
        with gr.Tab("Live", id="live_tab"):
            live_tab(gr, model)
    demo.queue(default_concurrency_limit=1, max_size=32)
    return demo


def launch_demo(
    model: EZCLIP,
    *,
    model_name: str = "model",
    note: str = "",
    host: str = "127.0.0.1",
    port: int = 7860,
    max_file_size: str | int = DEFAULT_MAX_FILE_SIZE,
    block: bool = True,
) -> tuple[Any, str]:
    """Build the page and serve it on ``host:port`` (localhost by default; never a public share link).

    Args:
        model, model_name, note: as `build_demo`.
        host: the address to bind; anything but localhost opens the demo to whoever reaches this machine.
        port: the TCP port.
        max_file_size: the largest upload (``"200mb"``, or bytes); a larger file is refused with a message.
        block: serve until interrupted (the command); False returns once the server answers (tests).

    Returns:
        The launched ``gradio.Blocks`` (``.close()`` stops it) and its local URL.
    """
    gr = require_gradio()
    demo = build_demo(model, model_name=model_name, note=note)
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        show_error=True,
        quiet=True,
        max_file_size=max_file_size,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        prevent_thread_lock=True,
        theme=_theme(gr),
        css=_CSS,
        footer_links=["gradio"],
    )
    if block:
        demo.block_thread()
    return demo, url
