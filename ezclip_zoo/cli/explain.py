"""``ezclip-zoo explain VIDEO -m MODEL --class "juggling" -o maps.png``: where the model looks, frame by frame.

Writes a PNG grid of the sampled frames with their heat maps over them (and the maps as numbers with ``--npz``);
prints one line (one JSON object with ``--json``) saying the frames, the class's score and the time taken.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..choices import BACKENDS, EXPLAIN_METHODS, NORMALIZATIONS, PROTOCOLS
from ._common import add_model_arguments, load_model

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "explain",
        help="attention maps over a video's frames, as a PNG",
        description="Per-frame maps of where an EZ-CLIP model looks in a video (attention, rollout, or "
        "gradient-weighted toward one class), drawn over the frames it samples.",
        epilog="examples:\n"
        "  ezclip-zoo explain clip.mp4 -m ezclip-b16-k400 --class juggling -o maps.png\n"
        "  ezclip-zoo explain clip.mp4 -m ./my-model --method rollout -o rollout.png\n"
        "  ezclip-zoo explain clip.mp4 -m ./my-model --class 'moving up' -l 'moving up' -l 'moving down' "
        "-o maps.png --npz maps.npz\n\n"
        "methods: attention (last block's CLS attention; one forward pass), rollout (attention rollout over "
        "all blocks; one forward pass), gradient (gradient-weighted attention toward the class's text; a "
        "forward and a backward pass; the default when --class is given)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("video", metavar="VIDEO", help="a video file")
    add_model_arguments(p)
    p.add_argument("--class", dest="target", metavar="NAME", help="the class to explain (needed by --method gradient)")
    p.add_argument(
        "--method",
        choices=EXPLAIN_METHODS,
        default=None,
        help="default: gradient with --class, attention without",
    )
    p.add_argument(
        "--label",
        "-l",
        action="append",
        default=[],
        metavar="L",
        help="classes to score, --class among them (repeatable; default: --class alone)",
    )
    p.add_argument("--labels", metavar="FILE", help="classes to score, from a file (as `ezclip-zoo classify`)")
    p.add_argument("--class-set", metavar="NAME", help="classes to score: a class set such as kinetics400")
    p.add_argument("--output", "-o", required=True, metavar="FILE.png", help="the PNG to write")
    p.add_argument("--npz", metavar="FILE.npz", help="also write the maps [T, S, S], frame indices and timestamps")
    p.add_argument(
        "--normalize",
        choices=NORMALIZATIONS,
        default=NORMALIZATIONS[0],
        help="scale maps by the clip's maximum (default) or each frame's own",
    )
    p.add_argument("--alpha", type=float, default=0.6, help="opacity of the heat map at its peak (default 0.6)")
    p.add_argument("--columns", type=int, default=None, help="frames per row of the grid (default: up to 8)")
    p.add_argument("--protocol", choices=PROTOCOLS, default=PROTOCOLS[0], help="preprocessing (as classify)")
    p.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0], help="video decoder")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a line")
    p.set_defaults(func=run)


def _classes(args: argparse.Namespace) -> Any:
    from ._classes import class_names

    if not (args.label or args.labels or args.class_set):
        return None
    return class_names(args)


def run(args: argparse.Namespace) -> int:
    from ..figures.overlay import save_overlay
    from ..saliency import explain

    method = args.method or ("gradient" if args.target else "attention")
    classes = _classes(args)
    model = load_model(args)
    result = explain(
        model,
        args.video,
        args.target,
        method=method,
        classes=classes,
        normalize=args.normalize,
        protocol=args.protocol,
        backend=args.backend,
    )
    path = save_overlay(result, args.output, alpha=args.alpha, columns=args.columns)
    if args.npz:
        import numpy as np

        np.savez_compressed(
            args.npz,
            maps=result.maps.numpy(),
            frame_indices=np.asarray(result.frame_indices),
            timestamps=np.asarray(result.timestamps if result.timestamps else [], dtype=np.float64),
        )
    record = {
        "video": result.source,
        "output": str(path),
        "method": method,
        "class": result.class_name,
        "score": result.score,
        "frame_indices": result.frame_indices,
        "timestamps": result.timestamps,
        "seconds": round(result.seconds, 4),
    }
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        what = f", class {result.class_name!r} logit {result.score:.3f}" if result.class_name else ""
        print(
            f"wrote {path}: {method}{what}, frames {result.frame_indices} of {result.total_frames}, "
            f"{result.seconds:.3f} s",
            file=sys.stdout,
        )
    return 0
