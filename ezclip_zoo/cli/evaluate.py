"""``ezclip-zoo evaluate``: an EZ-CLIP model under the paper's protocols, with a JSON report.

    # zero-shot on UCF-101, the three official splits, mean +- std (the reference's single view)
    ezclip-zoo evaluate --model ezclip-b16-k400 --format ucf101 --annotations ucfTrainTestlist \\
        --video-root UCF-101 --splits 1 2 3 --report ucf_zero_shot.json

    # base-to-novel on HMDB-51 (a model trained on the base classes with finetune --classes base.txt --k-shot 16)
    ezclip-zoo evaluate --model runs/hmdb_b2n/model --protocol base-to-novel --format hmdb51 \\
        --annotations testTrainMulti_7030_splits --video-root hmdb51 --base-classes base.txt \\
        --novel-classes novel.txt --report hmdb_b2n.json

    # Kinetics-600 / any CSV: every --test file is one split; 4 clips x 3 crops multi-view
    ezclip-zoo evaluate --model runs/k400/model --format kinetics --test k600_val.csv --video-root k600 \\
        --clips 4 --crops 3

    # the plain frame-averaged CLIP baseline: an architecture without temporal prompts, on a GPU
    ezclip-zoo evaluate --model ezclip-vit-b16 --vanilla-clip --device cuda --format ucf101 ...

Scores follow the reference: per class text the softmax over classes of 100 x cosine, averaged over the texts of a
class (16 ActionCLIP templates, or one description per class with --descriptions) and over views. The model runs
on the CPU unless --device names another (e.g. cuda). From Python: ``ezclip_zoo.evaluation.evaluate_dataset``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ..choices import (
    BATCH_SIZE,
    CROPS,
    DATASET_FORMATS,
    EVALUATION_PROTOCOLS,
    PRECISIONS,
    TEMPLATE_CHOICES,
)
from ._common import add_model_arguments, add_progress_arguments, default_workers, load_model, show_progress


def register(subparsers: argparse._SubParsersAction) -> None:

    p = subparsers.add_parser(
        "evaluate",
        help="evaluate with the paper's protocols (zero-shot, base-to-novel)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_arguments(p)  # --model/-m, --device (default cpu), --dtype, --seed
    p.add_argument(
        "--vanilla-clip",
        action="store_true",
        help="with an architecture name: no temporal prompts, the plain frame-averaged CLIP baseline",
    )
    p.add_argument("--no-pretrained-backbone", action="store_true", help="random CLIP (tests only)")
    p.add_argument("--protocol", choices=EVALUATION_PROTOCOLS, default=EVALUATION_PROTOCOLS[0])
    p.add_argument("--format", required=True, choices=DATASET_FORMATS)
    p.add_argument("--video-root")
    p.add_argument("--annotations", help="ucf101/hmdb51 split-list folder")
    p.add_argument("--splits", type=int, nargs="+", default=[1], help="ucf101/hmdb51 official splits to average")
    p.add_argument("--test", nargs="+", help="kinetics/csv/ssv2: test annotation file(s), one per split")
    p.add_argument("--labels", help="ssv2 labels JSON")
    p.add_argument("--base-classes", help="base-to-novel: base class list file (default: first half)")
    p.add_argument("--novel-classes", help="base-to-novel: novel class list file (default: second half)")
    p.add_argument("--descriptions", help="class,description CSV")
    p.add_argument("--templates", choices=TEMPLATE_CHOICES, default=TEMPLATE_CHOICES[0])
    p.add_argument("--clips", type=int, default=1, help="temporal views per video")
    p.add_argument("--crops", type=int, choices=CROPS, default=1, help="spatial views per frame")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help=f"data-loader processes (default {default_workers()}: at most the CPUs)",
    )
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="autocast (default fp32)")
    p.add_argument("--threads", type=int)
    p.add_argument("--report", help="write the JSON report here")
    add_progress_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..evaluation.recipe import evaluate_dataset, summary_line
    from ..evaluation.report import write_report

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(
        args,
        pretrained_backbone=not args.no_pretrained_backbone,
        overrides={"temporal_prompts": False} if args.vanilla_clip else None,
    )
    results = evaluate_dataset(
        model,
        format=args.format,
        protocol=args.protocol,
        video_root=args.video_root,
        annotations=args.annotations,
        splits=args.splits,
        test=args.test,
        labels=args.labels,
        base_classes=args.base_classes,
        novel_classes=args.novel_classes,
        descriptions=args.descriptions,
        templates=None if args.templates == "none" else args.templates,
        num_clips=args.clips,
        num_crops=args.crops,
        batch_size=args.batch_size,
        num_workers=args.workers,
        precision=args.precision,
        progress=show_progress(args),
    )
    print(summary_line(results))
    if args.report:
        write_report(
            args.report,
            results,
            model=args.model,
            protocol=args.protocol,
            format=args.format,
            command=" ".join(sys.argv),
        )
        print(f"report: {args.report}")
    else:
        print(json.dumps(results, indent=2))
    return 0
