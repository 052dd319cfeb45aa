"""``ezclip-zoo classify VIDEO... --model NAME|PATH --label L ...``: ranked action labels for video files.

Prints a table per video (JSON Lines with ``--json``); with ``--output FILE.jsonl`` it runs as a resumable batch
job (progress bar, done videos skipped on re-runs, unreadable files recorded as errors).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

from ._common import (
    add_class_arguments,
    add_model_arguments,
    add_video_arguments,
    class_names_from_args,
    expand_videos,
    inference_options,
    load_model,
    show_progress,
    summary,
)



# ---------------------------------------------------------------------------- classify
def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "classify", help="rank action labels for videos (zero-shot)",
        description="Rank action labels for video files with an EZ-CLIP model.",
        epilog="examples:\n"
               "  ezclip-zoo classify clip.mp4 -m ezclip-b16-k400 -l dancing -l juggling -l 'riding a bike'\n"
               "  ezclip-zoo classify videos/ -m ./my-model --labels classes.txt --topk 3 --json\n"
               "  ezclip-zoo classify clip.mp4 -m ezclip-b16-k400 --class-set kinetics400\n"
               "  ezclip-zoo classify videos/ -m ezclip-b16-k400 --labels k400.csv -o results.jsonl --workers 4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_video_arguments(p)
    add_model_arguments(p)
    add_class_arguments(p)
    p.add_argument("--template", action="append", default=None, metavar="T",
                   help="prompt template with {} (repeatable; softmax averaged over templates), or 'actionclip' for "
                        "the reference's 16")
    p.add_argument("--topk", "-k", type=int, default=5, help="labels to report per video (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per video instead of a table")
    p.add_argument("--all-classes", action="store_true", help="JSON/output records include every class's probability")
    p.add_argument("--text-cache", default=None, metavar="DIR",
                   help="folder of cached text embeddings (default: ~/.cache/ezclip_zoo/text_embeddings)")
    p.add_argument("--no-text-cache", action="store_true", help="do not read or write cached text embeddings")
    p.set_defaults(func=run)


def _text_cache(args: argparse.Namespace):
    from ..inference import TextEmbeddingCache, default_cache_dir

    if args.no_text_cache:
        return False
    return TextEmbeddingCache(directory=args.text_cache or default_cache_dir())


def run(args: argparse.Namespace) -> int:
    from ..inference import classify_videos

    videos = expand_videos(args.videos)
    if not videos:
        raise ValueError("no videos given: pass video files or folders")
    class_names = class_names_from_args(args)
    templates: Optional[Any] = None
    if args.template:
        templates = args.template[0] if args.template == ["actionclip"] else args.template
    model = load_model(args)
    report = classify_videos(
        model, videos, class_names, output=args.output, topk=args.topk, templates=templates, text=args.text,
        num_workers=args.workers, options=inference_options(args), text_cache=_text_cache(args),
        resume=not args.overwrite, retry_errors=args.retry_errors, progress=show_progress(args),
        keep_results=args.output is None, all_classes=args.all_classes,
    )
    if args.output is None:
        for result in report.results:
            if args.json:
                record = result.to_dict(all_classes=args.all_classes) if hasattr(result, "labels") else result.to_dict()
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(result)
    if args.output is not None or report.failed:
        print(summary(report, "classified"), file=sys.stderr)
    return 1 if report.failed else 0
