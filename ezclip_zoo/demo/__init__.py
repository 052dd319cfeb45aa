"""A web demo: a video in, ranked actions out, with the sampled frames, the attention overlay and the
localisation timeline (``ezclip-zoo demo``).

`analyse` computes what the page shows and needs no Gradio; `build_demo` / `launch_demo` make and serve the page
and import Gradio (``pip install "ezclip-zoo[demo]"``) only when called. Names are imported on first use, so the
command line's ``--help`` imports neither torch nor Gradio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .analysis import Analysis, analyse, demo_classes, parse_class_text
    from .app import DEFAULT_MAX_FILE_SIZE, LOCAL_HOSTS, build_demo, launch_demo, require_gradio

__all__ = [
    "Analysis",
    "analyse",
    "demo_classes",
    "parse_class_text",
    "build_demo",
    "launch_demo",
    "require_gradio",
    "DEFAULT_MAX_FILE_SIZE",
    "LOCAL_HOSTS",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".analysis": ("Analysis", "analyse", "demo_classes", "parse_class_text"),
        ".app": ("DEFAULT_MAX_FILE_SIZE", "LOCAL_HOSTS", "build_demo", "launch_demo", "require_gradio"),
    },
)
