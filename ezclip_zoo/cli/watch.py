"""``ezclip-zoo watch SOURCE -m MODEL -l L ...``: actions in a live stream as they happen.

Prints one line per segment and gap event (and per window with ``--windows``): JSON Lines with ``--jsonl FILE``
(``-``: stdout), readable lines otherwise; then a summary (windows scored, skipped, latency median / p95, gaps,
and with ``--on-event CMD`` what the hook did). ``--on-event`` runs CMD per segment and gap event with its JSON on
stdin, in the background (`EventHook`). SIGINT and
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
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="a file, - (stdin), a camera (/dev/videoN), or a tcp://, udp://, http(s):// (.m3u8: HLS), rtsp://, "
        "rtmp://, srt:// URL (?listen=1: wait for a publisher)",
    )
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
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds without a frame before the source ends (a source that never opens fails after S; inf: "
        "reconnect for ever)",
    )
    p.add_argument(
        "--stall", type=float, default=2.0, metavar="S", help="seconds without a frame before a connection is reopened"
    )
    p.add_argument("--backoff", type=float, default=0.25, metavar="S", help="first wait before reconnecting")
    p.add_argument(
        "--backoff-max", type=float, default=4.0, metavar="S", help="longest wait between attempts (they double)"
    )
    p.add_argument(
        "--source-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an FFmpeg option for opening SOURCE, e.g. video_size=640x480 framerate=30 for a camera (repeatable)",
    )
    p.add_argument(
        "--on-event",
        metavar="CMD",
        default=None,
        help="run CMD (a shell command) per segment and gap event with its JSON on stdin, in the background",
    )
    p.add_argument("--on-event-timeout", type=float, default=10.0, metavar="S", help="kill a hook run after S seconds")
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
    if event.kind == "gap":
        return f"gap    {event.start:8.2f} - {event.end:8.2f}  source lost for {event.duration_s:.1f} s"
    if event.kind == "opened":
        return f"opened {event.start:8.2f}            {event.label}"
    return f"closed {event.start:8.2f} - {event.end:8.2f}  {event.label}  {event.score:.2f}"


def _source(args: argparse.Namespace) -> Any:
    from ..live import ReconnectPolicy, describe_source

    options = {}
    for item in args.source_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--source-option takes KEY=VALUE (an FFmpeg option), got {item!r}")
        options[key] = value
    policy = ReconnectPolicy(stall_s=args.stall, backoff_s=args.backoff, backoff_max_s=args.backoff_max)
    return describe_source(args.source, pace=args.pace, follow=args.follow, options=options, reconnect=policy)


def run(args: argparse.Namespace) -> int:
    from ..live import EventHook, watch

    classes = class_names(args)
    source = _source(args)
    hook = EventHook(args.on_event, timeout_s=args.on_event_timeout) if args.on_event else None
    model = load_model(args)
    live = watch(
        model,
        source,
        classes,
        **segment_arguments(args),
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
                record = event.to_dict()
                out.write(record, _text(event))
                if hook is not None and event.kind != "window":
                    hook.submit(record)
        summary = live.summary
        if hook is not None:
            summary.extra["hooks"] = hook.close().to_dict()
            hook = None
        if out.json:
            out.write(summary.to_dict(), "")
        print(summary, file=sys.stderr)
        if "hooks" in summary.extra:
            print("event hook: " + ", ".join(f"{k} {v}" for k, v in summary.extra["hooks"].items()), file=sys.stderr)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        out.close()
        if hook is not None:
            hook.close()
    return 0
