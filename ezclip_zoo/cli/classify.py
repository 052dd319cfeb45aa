"""``ezclip-zoo classify VIDEO... --model NAME|PATH --label L ...``: ranked action labels for video files.

Prints a table per video (JSON Lines with ``--json``); with ``--output FILE.jsonl`` it runs as a resumable batch
job (progress bar, done videos skipped on re-runs, unreadable files recorded as errors).
"""

from __future__ import annotations

import argparse
import json
import sys

from ._classes import add_class_arguments, class_names, templates, text_cache
from ._common import (
    add_model_arguments,
    add_video_arguments,
    expand_videos,
    inference_options,
    load_model,
    show_progress,
    summary,
)


# ---------------------------------------------------------------------------- classify
def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "classify",
        help="rank action labels for videos (zero-shot)",
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
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="who decodes and runs the model: this process (default) or a Ray cluster (pip install 'ezclip-zoo[ray]')",
    )
    p.add_argument("--address", default=None, help="with --engine ray: the cluster (e.g. auto, ray://head:10001)")
    p.add_argument("--actors", type=int, default=1, help="with --engine ray: model replicas (default 1)")
    p.add_argument("--gpus-per-actor", type=float, default=0.0, help="with --engine ray: GPUs per actor")
    p.add_argument("--topk", "-k", type=int, default=5, help="labels to report per video (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per video instead of a table")
    p.add_argument("--all-classes", action="store_true", help="JSON/output records include every class's probability")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference import classify_videos

    videos = expand_videos(args.videos)
    if not videos:
        raise ValueError("no videos given: pass video files or folders")
    classes = class_names(args)
    model = load_model(args)
    engine = None
    if args.engine == "ray":
        from ..inference.ray import ray_engine

        engine = ray_engine(num_actors=args.actors, num_gpus=args.gpus_per_actor, address=args.address)
    report = classify_videos(
        model,
        videos,
        classes,
        output=args.output,
        topk=args.topk,
        templates=templates(args),
        text=args.text,
        num_workers=args.workers,
        options=inference_options(args),
        text_cache=text_cache(args),
        resume=not args.overwrite,
        retry_errors=args.retry_errors,
        progress=show_progress(args),
        keep_results=args.output is None,
        all_classes=args.all_classes,
        engine=engine,
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
