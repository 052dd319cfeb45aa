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

Scores follow the reference: per class text the softmax over classes of 100 x cosine, averaged over the texts of a
class (16 ActionCLIP templates, or one description per class with --descriptions) and over views.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ._common import add_progress_arguments, check_device, default_workers, show_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..data import FORMATS

    p = subparsers.add_parser("evaluate", help="evaluate with the paper's protocols (zero-shot, base-to-novel)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="zoo folder, checkpoint name, or an architecture (random "
                   "prompts/adapters; with --vanilla-clip the plain frame-averaged CLIP baseline)")
    p.add_argument("--vanilla-clip", action="store_true", help="architecture without temporal prompts: plain CLIP")
    p.add_argument("--no-pretrained-backbone", action="store_true", help="random CLIP (tests only)")
    p.add_argument("--protocol", choices=("zero-shot", "base-to-novel"), default="zero-shot")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--video-root")
    p.add_argument("--annotations", help="ucf101/hmdb51 split-list folder")
    p.add_argument("--splits", type=int, nargs="+", default=[1], help="ucf101/hmdb51 official splits to average")
    p.add_argument("--test", nargs="+", help="kinetics/csv/ssv2: test annotation file(s), one per split")
    p.add_argument("--labels", help="ssv2 labels JSON")
    p.add_argument("--base-classes", help="base-to-novel: base class list file (default: first half)")
    p.add_argument("--novel-classes", help="base-to-novel: novel class list file (default: second half)")
    p.add_argument("--descriptions", help="class,description CSV")
    p.add_argument("--templates", choices=("actionclip", "none"), default="actionclip")
    p.add_argument("--clips", type=int, default=1, help="temporal views per video")
    p.add_argument("--crops", type=int, choices=(1, 3), default=1, help="spatial views per frame")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--workers", type=int, default=default_workers(),
                   help=f"data-loader processes (default {default_workers()}: at most the CPUs)")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--report", help="write the JSON report here")
    add_progress_arguments(p)
    p.set_defaults(func=run)


def _model(args):
    import torch

    import ezclip_zoo

    if args.model in ezclip_zoo.list_models():
        overrides = {"temporal_prompts": False} if args.vanilla_clip else {}
        torch.manual_seed(0)
        model = ezclip_zoo.create_model(args.model, pretrained_backbone=not args.no_pretrained_backbone, **overrides)
    else:
        model = ezclip_zoo.load(args.model)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(device)
    return model.to(device).eval()


def _test_splits(args) -> list:
    from ..data import read_dataset

    if args.format in ("ucf101", "hmdb51"):
        return [read_dataset(args.format, annotations=args.annotations, video_root=args.video_root, split=s)["test"]
                for s in args.splits]
    if not args.test:
        raise ValueError(f"--format {args.format} needs --test FILE [FILE ...]")
    return [
        read_dataset(args.format, test=t, video_root=args.video_root, labels=args.labels)["test"] for t in args.test
    ]


def _base_to_novel(args, model, splits, common) -> tuple[dict, str]:
    from ..data import base_novel_classes, read_class_list
    from ..evaluation import evaluate_base_to_novel, mean_std

    runs = []
    for split in splits:
        base, novel = base_novel_classes(split.classes)
        if args.base_classes:
            base = read_class_list(args.base_classes)
        if args.novel_classes:
            novel = read_class_list(args.novel_classes)
        runs.append(evaluate_base_to_novel(model, split, base, novel, **common))
    results: dict = {"splits": runs}
    for key in ("base", "novel", "hm"):
        mean, std = mean_std([r[key] for r in runs])
        results[key] = {"mean": mean, "std": std}
    line = f"base {results['base']['mean']:.2f}, novel {results['novel']['mean']:.2f}, HM {results['hm']['mean']:.2f}"
    return results, line


def run(args: argparse.Namespace) -> int:
    import torch

    from ..data import read_class_descriptions
    from ..evaluation import evaluate_splits, write_report
    from ..text.templates import ACTIONCLIP_TEMPLATES

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.threads:
        torch.set_num_threads(args.threads)
    model = _model(args)
    splits = _test_splits(args)
    for split in splits:
        if split.missing:
            logging.warning("%s: %d listed videos are not on disk (not scored)", split.name, len(split.missing))
    descriptions = read_class_descriptions(args.descriptions) if args.descriptions else None
    templates = None if args.templates == "none" else ACTIONCLIP_TEMPLATES
    common = dict(descriptions=descriptions, templates=templates, num_clips=args.clips, num_crops=args.crops,
                  batch_size=args.batch_size, num_workers=args.workers, precision=args.precision,
                  progress=show_progress(args))
    if args.protocol == "zero-shot":
        results = evaluate_splits(model, splits, **common)
        line = (f"top-1 {results['top1']['mean']:.2f} +- {results['top1']['std']:.2f}, "
                f"top-5 {results['top5']['mean']:.2f} +- {results['top5']['std']:.2f} over {len(splits)} split(s)")
    else:
        results, line = _base_to_novel(args, model, splits, common)
    print(line)
    if args.report:
        write_report(args.report, results, model=args.model, protocol=args.protocol, format=args.format,
                     command=" ".join(sys.argv))
        print(f"report: {args.report}")
    else:
        print(json.dumps(results, indent=2))
    return 0
