"""``ezclip-zoo localize VIDEO -m MODEL -l L ...``: when each action happens in a long video.

Prints the segments found (``--json``: one object with ``windows`` and ``segments``; ``--csv``: the segments as
CSV) and with ``--plot timeline.png`` draws the timeline (classes as rows, time across, segments over the score
curves).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..choices import SCORES
from ._classes import add_class_arguments, class_names, templates, text_cache
from ._common import add_model_arguments, add_segment_arguments, load_model, segment_arguments, show_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "localize",
        help="find when actions happen in a long video (sliding windows)",
        description="Score sliding windows over a whole video and merge them into action segments.",
        epilog="examples:\n"
        "  ezclip-zoo localize match.mp4 -m ezclip-b16-k400 -l 'kicking soccer ball' -l 'dribbling' "
        "--background 'people standing'\n"
        "  ezclip-zoo localize talk.mp4 -m ./my-model --labels classes.txt --window 4 --stride 1 --json\n"
        "  ezclip-zoo localize clip.mp4 -m ezclip-b16-k400 --class-set kinetics400 --plot timeline.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("video", metavar="VIDEO", help="a video file")
    add_model_arguments(p)
    add_class_arguments(p)
    add_segment_arguments(p, stride=None)
    p.add_argument(
        "--scores",
        choices=SCORES,
        default="softmax",
        help="what the segment rule reads: the softmax over the classes (default; background texts mean no action), "
        "or each class's sigmoid presence probability (SigLIP-family backbones; no class above --min-score means "
        "no action)",
    )
    p.add_argument("--crops", type=int, choices=(1, 3), default=1, help="spatial views per frame (default 1)")
    p.add_argument("--protocol", choices=("clip", "reference"), default="clip", help="preprocessing")
    p.add_argument("--strategy", choices=("auto", "sequential", "seek"), default="auto", help="frame decoding")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default 8)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object: windows and segments")
    out.add_argument("--csv", action="store_true", help="print the segments as CSV (label,start,end,score)")
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="also draw the timeline into this PNG (needs matplotlib: pip install 'ezclip-zoo[plot]')",
    )
    p.add_argument(
        "--truth",
        metavar="JSON",
        help="with --plot: true segments to draw under the rows (a JSON list of {label, start, end} in seconds)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference import InferenceOptions
    from ..localization import localize

    classes = class_names(args)
    if args.plot:
        from ..figures.timeline import require_matplotlib

        require_matplotlib()  # fail before the model runs, not after
    model = load_model(args)
    options = InferenceOptions(
        batch_size=args.batch_size, num_crops=args.crops, protocol=args.protocol, strategy=args.strategy
    )
    result = localize(
        model,
        args.video,
        classes,
        **segment_arguments(args),
        scores=args.scores,
        templates=templates(args),
        text=args.text,
        text_cache=text_cache(args),
        progress=show_progress(args),
        options=options,
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(result.segments_csv())
    else:
        print(result)
    if args.plot:
        from ..figures.timeline import save_timeline

        print(f"timeline: {save_timeline(result, args.plot, truth=_truth(args.truth))}", file=sys.stderr)
    return 0


def _truth(path: str | None) -> list[Any] | None:
    """The ``--truth`` file's segments (objects with label, start, end), or None."""
    if path is None:
        return None
    from types import SimpleNamespace

    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"label", "start", "end"} <= set(r) for r in rows):
        raise ValueError(f"--truth {path}: expected a JSON list of objects with label, start and end (seconds)")
    return [SimpleNamespace(label=str(r["label"]), start=float(r["start"]), end=float(r["end"])) for r in rows]
