"""``ezclip-zoo convert-official CKPT OUT_DIR``: authors' checkpoint -> zoo folder, printing its sha256."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "convert-official",
        help="convert an authors' EZ-CLIP checkpoint (.pt) into a zoo folder",
        description="Read an authors' train.py checkpoint with torch.load(weights_only=True) and write a zoo folder "
        "(config.json, model.safetensors with prompts/adapters only, model card). Prints the sha256 to record in "
        "checkpoints.json.",
    )
    p.add_argument("checkpoint", help="the authors' .pt file")
    p.add_argument("out_dir", help="folder to write")
    p.add_argument("--name", help="checkpoint name (a checkpoints.json name brings its metrics and text mode)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--backbone",
        default="auto",
        help="'auto' (default: known OpenAI CLIP -> open_clip name + tag 'openai'), or MODEL:TAG",
    )
    group.add_argument(
        "--embed-backbone",
        action="store_true",
        help="store the checkpoint's own CLIP beside the weights (self-contained folder)",
    )
    p.add_argument(
        "--verify-backbone",
        action="store_true",
        help="check that the CLIP inside the checkpoint equals the paired backbone (fp16 precision)",
    )
    p.add_argument("--backbone-weights", help="local CLIP weights to verify against instead of downloading the tag")
    p.add_argument("--cache-dir", help="download cache for the backbone weights")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..zoo.conversion import convert_official

    report = convert_official(
        args.checkpoint,
        args.out_dir,
        name=args.name,
        backbone="embed" if args.embed_backbone else args.backbone,
        verify_backbone=args.verify_backbone,
        backbone_weights=args.backbone_weights,
        cache_dir=args.cache_dir,
    )
    print(report.summary())
    return 0
