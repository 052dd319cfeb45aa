"""``ezclip-zoo embed``: L2-normalised embeddings of videos (or of texts with ``--text``) as JSON Lines."""

from __future__ import annotations

import argparse
import json
import sys

from ._common import (
    add_model_arguments,
    add_video_arguments,
    expand_videos,
    inference_options,
    load_model,
    show_progress,
    summary,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "embed",
        help="video or text embeddings as JSON Lines",
        description="Write L2-normalised EZ-CLIP embeddings of videos (one JSON line per video: source, embedding, "
        "frames) or, with --text/--texts, of texts.",
        epilog="examples:\n"
        "  ezclip-zoo embed videos/ -m ezclip-b16-k400 -o embeddings.jsonl --workers 4\n"
        "  ezclip-zoo embed -m ezclip-b16-k400 --text 'juggling balls' --text 'playing guitar'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_video_arguments(p)
    add_model_arguments(p)
    p.add_argument("--text", action="append", default=[], metavar="T", help="embed this text (repeatable)")
    p.add_argument("--texts", metavar="FILE", help="embed the texts of this file, one per line")
    p.set_defaults(func=run)


def _texts(args: argparse.Namespace) -> list[str]:
    texts = list(args.text)
    if args.texts:
        with open(args.texts, encoding="utf-8") as f:
            texts += [line.strip() for line in f if line.strip()]
    return texts


def run(args: argparse.Namespace) -> int:
    import torch

    from ..inference import embed_videos
    from ..text.cache import encode_texts

    texts = _texts(args)
    if texts and args.videos:
        raise ValueError("embed either videos or texts (--text/--texts) in one call, not both")
    if texts:
        model = load_model(args)
        with torch.inference_mode():
            features = encode_texts(model, texts).cpu()
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
        try:
            for text, vector in zip(texts, features, strict=True):
                out.write(json.dumps({"text": text, "embedding": vector.tolist()}, ensure_ascii=False) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        return 0
    videos = expand_videos(args.videos)
    if not videos:
        raise ValueError("nothing to embed: pass video files or folders, or --text")
    model = load_model(args)
    report = embed_videos(
        model,
        videos,
        output=args.output,
        num_workers=args.workers,
        options=inference_options(args),
        resume=not args.overwrite,
        retry_errors=args.retry_errors,
        progress=show_progress(args),
        keep_results=args.output is None,
    )
    if args.output is None:
        for result in report.results:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
    if args.output is not None or report.failed:
        print(summary(report, "embedded"), file=sys.stderr)
    return 1 if report.failed else 0
