"""``ezclip-zoo demo [-m MODEL] [--host 127.0.0.1 --port 7860]``: the web demo in a browser.

Loads the model once, then serves the page (`ezclip_zoo.demo`) on localhost until Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from ..errors import UntrainedModelWarning
from ._common import add_model_arguments, load_model

__all__ = ["register", "run", "random_weights_note", "DEFAULT_MODEL"]

DEFAULT_MODEL = "ezclip-b16-k400"


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..demo.app import DEFAULT_MAX_FILE_SIZE

    p = subparsers.add_parser(
        "demo",
        help="a web page: upload a video, see the ranked actions (needs ezclip-zoo[demo])",
        description="Serve the web demo: upload a video, type classes or pick a class set, and see the ranked "
        "actions as a bar chart, the sampled frames, the attention overlay and the localisation "
        "timeline. One model, loaded once; requests queue and run one at a time.",
        epilog="examples:\n"
        "  ezclip-zoo demo                                  # ezclip-b16-k400 on http://127.0.0.1:7860\n"
        "  ezclip-zoo demo -m ezclip-test-tiny --port 8000  # a tiny random model, to try the page\n"
        "  ezclip-zoo demo -m ./my-model --dtype bfloat16\n\n"
        "The page binds to localhost; --host 0.0.0.0 opens it to every machine that can reach this one.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_arguments(p, default=DEFAULT_MODEL)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    p.add_argument(
        "--max-file-size",
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="SIZE",
        help=f"largest upload, e.g. 50mb or 1gb (default {DEFAULT_MAX_FILE_SIZE})",
    )
    p.set_defaults(func=run)


def random_weights_note(model_name: str, seed: int) -> str:
    """The line the page shows under its title when ``--model`` is an architecture (random weights)."""
    return (
        f"{model_name} is an architecture with random weights (seed {seed}): its rankings show the page "
        "working, not a trained model's answers."
    )


def run(args: argparse.Namespace) -> int:
    from ..demo.app import LOCAL_HOSTS, launch_demo, require_gradio

    require_gradio()  # fail before the model loads, not after
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(args)
    for w in caught:  # shown as usual; an untrained model is also said on the page
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    untrained = any(issubclass(w.category, UntrainedModelWarning) for w in caught)
    note = random_weights_note(args.model, args.seed) if untrained else ""
    if args.host not in LOCAL_HOSTS:
        print(
            f"warning: --host {args.host}: anyone who can reach this machine on port {args.port} can use the demo",
            file=sys.stderr,
        )
    demo, url = launch_demo(
        model,
        model_name=args.model,
        note=note,
        host=args.host,
        port=args.port,
        max_file_size=args.max_file_size,
        block=False,
    )
    print(
        f"ezclip-zoo demo: {args.model} at {url} (ready in {time.perf_counter() - start:.1f} s; Ctrl+C stops)",
        file=sys.stderr,
        flush=True,
    )
    demo.block_thread()
    return 0
