"""``ezclip-zoo search LIBRARY "someone juggling" [--topk 10] [--json]``: the videos (or windows) of a library that
best match a text, or a video with ``--video``. The model is the one the library records."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search",
        help="find videos in a library by text or by a video",
        description="Rank a library's videos (or windows, for a --segments library) against a text query, or "
        "against a video with --video (more like this).",
        epilog="examples:\n"
        "  ezclip-zoo search videos.lib 'someone juggling' --topk 5\n"
        "  ezclip-zoo search rec.lib 'a dog catching a frisbee' --json\n"
        "  ezclip-zoo search videos.lib --video clip.mp4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("library", metavar="LIBRARY", help="a folder made by ezclip-zoo index")
    p.add_argument("query", nargs="?", default=None, metavar="TEXT", help="what to look for")
    p.add_argument("--video", metavar="FILE", help="search by a video instead of a text")
    p.add_argument("--topk", "-k", type=int, default=10, help="hits to show (default 10)")
    p.add_argument(
        "--approximate", action="store_true", help="use the faiss IVF index (pip install 'ezclip-zoo[search]')"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of hits (path, score, start, end)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..search import VideoIndex

    if (args.query is None) == (args.video is None):
        raise ValueError("give a text query or --video FILE (one of them)")
    index = VideoIndex.open(args.library)
    approximate = True if args.approximate else None
    hits = (
        index.search_video(args.video, args.topk, approximate=approximate)
        if args.video
        else index.search(str(args.query), args.topk, approximate=approximate)
    )
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return 0
    for rank, h in enumerate(hits, 1):
        where = f"  {h.start:.1f}-{h.end:.1f} s" if h.start is not None else ""
        print(f"{rank:3d}. {h.score:.3f}  {h.path}{where}")
    return 0
