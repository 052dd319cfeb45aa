"""``ezclip-zoo index FOLDER -m MODEL -o LIBRARY [--segments]``: embed a video collection for search, incremental
and resumable (re-run it after adding, removing or editing videos; a killed run carries on)."""

from __future__ import annotations

import argparse
import os
import sys

from ._common import add_model_arguments, load_model, show_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index",
        help="embed a folder of videos into a searchable library",
        description="Embed every video of a folder (or every window of it, with --segments) into a library that "
        "`ezclip-zoo search` reads. Re-running updates it: new videos added, removed ones dropped, "
        "changed ones embedded again.",
        epilog="examples:\n"
        "  ezclip-zoo index videos/ -m ezclip-b16-k400 -o videos.lib\n"
        "  ezclip-zoo index recordings/ -m ezclip-b16-k400 -o rec.lib --segments --window 4 --stride 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("videos", nargs="+", metavar="FOLDER|VIDEO", help="a folder (searched recursively) or video files")
    add_model_arguments(p)
    p.add_argument("--output", "-o", required=True, metavar="LIBRARY", help="the library folder")
    p.add_argument("--segments", action="store_true", help="embed every window of each video with its start/end")
    p.add_argument("--window", type=float, default=2.0, metavar="S", help="with --segments: window length (s)")
    p.add_argument(
        "--stride",
        type=float,
        default=None,
        metavar="S",
        help="with --segments: seconds between windows (default: half a window)",
    )
    p.add_argument("--clips", type=int, default=1, help="temporal views per whole video (default 1)")
    p.add_argument("--batch-size", type=int, default=8, help="clips per forward pass (default 8)")
    p.add_argument("--flush-every", type=int, default=32, help="videos per shard: what a kill can lose at most")
    p.add_argument("--verify-hash", action="store_true", help="also compare sha256 to find changed videos")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _source(model_arg: str) -> str:
    """The --model value as something a later `search` can load from another working directory."""
    return os.path.abspath(model_arg) if os.path.isdir(model_arg) else model_arg


def run(args: argparse.Namespace) -> int:
    from ..inference import InferenceOptions
    from ..search import index_videos

    model = load_model(args)
    videos = args.videos[0] if len(args.videos) == 1 and os.path.isdir(args.videos[0]) else args.videos
    report = index_videos(
        model,
        videos,
        args.output,
        model_source=_source(args.model),
        model_seed=args.seed,
        segments=args.segments,
        window_s=args.window,
        stride_s=args.stride,
        flush_every=args.flush_every,
        verify_hash=args.verify_hash,
        options=InferenceOptions(batch_size=args.batch_size, num_clips=args.clips),
        progress=show_progress(args),
    )
    print(
        f"{args.output}: {report.rows} rows; {report.added} videos added, {report.changed} changed, "
        f"{report.removed} removed, {report.kept} kept, {len(report.failed)} failed",
        file=sys.stderr,
    )
    for path, error in report.failed.items():
        print(f"  failed: {path}: {error}", file=sys.stderr)
    return 1 if report.failed else 0
