"""``ezclip-zoo watch SOURCE -m MODEL -l L ...``: actions in a live stream as they happen.

Prints one line per segment event (and per window with ``--windows``): JSON Lines with ``--jsonl FILE`` (``-``:
stdout), readable lines otherwise; then a summary (windows scored, skipped, latency median / p95). SIGINT and
SIGTERM close the open segments, write their events and the summary, and exit 0; each line is written whole in one
call, so a killed process leaves no partial line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import Any

from ._classes import add_class_arguments, class_names, templates, text_cache
from ._common import add_model_arguments, add_segment_arguments, load_model, segment_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "watch",
        help="recognise actions in a live stream as they happen (camera, TCP/UDP, HTTP, stdin, a file)",
        description="Score sliding windows of a live stream as they close and report action segments as they "
        "open and close.",
        epilog="examples:\n"
        "  ezclip-zoo watch udp://127.0.0.1:9000 -m ezclip-b16-k400 -l 'juggling' --background 'people standing'\n"
        "  ezclip-zoo watch match.mp4 -m ezclip-b16-k400 -l dribbling --pace 4 --windows --jsonl -\n"
        "  ffmpeg -i rtsp://camera/stream -c copy -f mpegts - | ezclip-zoo watch - -m ./my-model --labels classes.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", metavar="SOURCE", help="a file, - (stdin), or a tcp://, udp://, http(s)://, rtsp:// URL")
    add_model_arguments(p)
    add_class_arguments(p)
    add_segment_arguments(p, stride=0.5)
    p.add_argument(
        "--pace",
        type=float,
        default=None,
        metavar="X",
        help="release a file or HTTP source at X times real time (default 1; inf: as fast as decoded)",
    )
    p.add_argument("--follow", action="store_true", help="SOURCE is a file still being written: read it as it grows")
    p.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds without a frame before the source ends"
    )
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds of stream")
    p.add_argument("--max-windows", type=int, default=None, metavar="N", help="stop after N scored windows")
    p.add_argument("--crops", type=int, choices=(1, 3), default=1, help="spatial views per frame (default 1)")
    p.add_argument("--protocol", choices=("clip", "reference"), default="clip", help="preprocessing")
    p.add_argument("--windows", action="store_true", help="also one line per scored window (with its latency)")
    p.add_argument("--jsonl", metavar="FILE", default=None, help="write JSON Lines here (- for stdout)")
    p.set_defaults(func=run)


class _Lines:
    """Whole lines to a file descriptor, each in one ``write`` (a killed process leaves no partial line)."""

    def __init__(self, target: str | None) -> None:
        self.json = target is not None
        if target is None or target == "-":
            sys.stdout.flush()
            self.fd, self.own = sys.stdout.fileno(), False
        else:
            self.fd, self.own = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), True

    def write(self, record: dict[str, Any], text: str) -> None:
        line = (json.dumps(record, ensure_ascii=False) if self.json else text) + "\n"
        data = line.encode()
        while data:
            data = data[os.write(self.fd, data) :]

    def close(self) -> None:
        if self.own:
            os.close(self.fd)


def _text(event: Any) -> str:
    if event.kind == "window":
        label, p = event.top
        return f"window {event.start:8.2f} - {event.end:8.2f}  {label} {p:.2f}  latency {event.latency_s * 1000:.0f} ms"
    if event.kind == "opened":
        return f"opened {event.start:8.2f}            {event.label}"
    return f"closed {event.start:8.2f} - {event.end:8.2f}  {event.label}  {event.score:.2f}"


def run(args: argparse.Namespace) -> int:
    from ..live import watch

    classes = class_names(args)
    model = load_model(args)
    live = watch(
        model,
        args.source,
        classes,
        **segment_arguments(args),
        pace=args.pace,
        follow=args.follow,
        windows=args.windows,
        timeout_s=args.timeout,
        duration_s=args.duration,
        max_windows=args.max_windows,
        templates=templates(args),
        text=args.text,
        text_cache=text_cache(args),
        num_crops=args.crops,
        protocol=args.protocol,
    )
    out = _Lines(args.jsonl)
    previous = {sig: signal.signal(sig, lambda *_: live.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with live:
            for event in live:
                out.write(event.to_dict(), _text(event))
        summary = live.summary
        if out.json:
            out.write(summary.to_dict(), "")
        print(summary, file=sys.stderr)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out.close()
    return 0
