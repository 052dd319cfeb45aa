"""``ezclip-zoo export MODEL OUT_DIR``: the video and text encoders as ONNX (or ``torch.export``) files, with the
manifest, tokenizer file and (optionally) class embeddings that `ezclip_zoo.runtime.OnnxModel` needs."""

from __future__ import annotations

import argparse
import sys

from ..choices import DTYPE_NAMES, EXPORT_FORMATS, QUANTIZATIONS
from ._classes import add_class_arguments, class_names
from ._common import load_model


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export the encoders as ONNX or torch.export files",
        description="Export a model's video encoder (frames [B, T, 3, H, W] -> L2-normalised [B, E]) and text "
        "encoder (tokens [C, 77] -> L2-normalised [C, E]), with dynamic batch and class dimensions, to "
        "OUT_DIR, with a manifest (ezclip_export.json: preprocessing, logit scale, frames, sha256 of "
        "every file and of the source weights), CLIP's BPE file, and the classes' text embeddings when "
        "classes are given. ezclip_zoo.runtime.OnnxModel(OUT_DIR) classifies with it, without PyTorch.",
        epilog="examples:\n"
        "  ezclip-zoo export ezclip-b16-k400 out/ --class-set kinetics400\n"
        "  ezclip-zoo export ./my-model out/ -l dancing -l juggling --quantize int8\n"
        "  ezclip-zoo export ./my-model out-pt2/ --format torch-export --dtype bfloat16",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="checkpoint name (ezclip-zoo list), hf-hub:ORG/REPO, a folder from save_pretrained, or an "
        "architecture name for a fresh random-weight model (e.g. ezclip-test-tiny)",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="a new or empty folder, or an earlier export (replaced)")
    p.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default=EXPORT_FORMATS[0],
        help="onnx (ONNX Runtime; default) or torch-export (.pt2 programs)",
    )
    p.add_argument(
        "--dtype",
        choices=sorted(DTYPE_NAMES),
        default="float32",
        help="compute dtype of the exported encoders (default float32; bfloat16 with torch-export only)",
    )
    p.add_argument(
        "--quantize",
        choices=QUANTIZATIONS,
        default=None,
        help="int8 dynamic quantization of the video encoder's frozen linear layers (onnx, float32; "
        "the text encoder stays float32)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random init for architecture names (default 0)")
    add_class_arguments(p, scoring=False)
    p.set_defaults(func=run, device=None)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..export import check_options, export_model

    check_options(args.format, args.quantize, getattr(torch, DTYPE_NAMES[args.dtype]))
    classes = class_names(args, required=False)
    model = load_model(args)
    manifest = export_model(
        model,
        args.out_dir,
        format=args.format,
        quantize=args.quantize,
        class_names=classes,
        text=args.text,
        source=args.model,
    )
    print(f"exported {model.config.name} ({args.format}) -> {manifest.parent}", file=sys.stderr)
    return 0
