"""``ezclip-zoo finetune``: fine-tune EZ-CLIP on a video dataset with the reference recipe (torchrun-ready); the
result is a zoo folder `ezclip_zoo.load` reads.

    # a ready dataset to try it on: generated motion videos laid out like UCF-101
    python -c "from ezclip_zoo.synthetic import write_motion_dataset as w; print(w('demo', 'ucf101'))"
    ezclip-zoo finetune --format ucf101 --annotations demo/ucfTrainTestlist --video-root demo/videos \\
        --model ezclip-test-tiny --no-pretrained-backbone --epochs 2 --batch-size 4 --output runs/demo

    # UCF-101 split 1 from ViT-B/16, on every GPU of the machine
    torchrun --nproc_per_node=gpu -m ezclip_zoo.cli finetune --format ucf101 --annotations ucfTrainTestlist \\
        --video-root UCF-101 --model ezclip-vit-b16 --lr 1e-5 --epochs 50 --batch-size 8 --output runs/ucf

    # continue an interrupted run (same command plus --resume)
    ezclip-zoo finetune ... --output runs/ucf --resume

From Python the same run is one call, ``ezclip_zoo.train.finetune`` (see examples/finetune.py).

The validation split is held out of the training split (``--val-fraction``) unless given (``--val``); the test
split is never used here (evaluate the result with ``ezclip-zoo evaluate``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import TYPE_CHECKING

from ..choices import DATASET_FORMATS, LOSSES, PRECISIONS, TEMPLATE_CHOICES

if TYPE_CHECKING:
    from ..train.config import TrainConfig

from ._common import add_progress_arguments, default_workers, show_progress


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "finetune",
        help="fine-tune the prompts and adapters on a video dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_arguments(p.add_argument_group("data"))
    _model_arguments(p.add_argument_group("model"))
    _optimisation_arguments(p.add_argument_group("optimisation (defaults: the reference recipe)"))
    _run_arguments(p.add_argument_group("run"))
    add_progress_arguments(p)
    p.set_defaults(func=run)


def _data_arguments(data: argparse._ArgumentGroup) -> None:

    data.add_argument("--format", required=True, choices=DATASET_FORMATS)
    data.add_argument("--video-root", help="folder of the videos")
    data.add_argument("--annotations", help="ucf101: ucfTrainTestlist folder; hmdb51: testTrainMulti_7030_splits")
    data.add_argument("--split", type=int, default=1, help="ucf101/hmdb51 official split (1-3)")
    data.add_argument("--train", help="kinetics/csv: train CSV; ssv2: train JSON")
    data.add_argument("--val", help="validation annotations (default: hold out --val-fraction of train)")
    data.add_argument("--labels", help="ssv2: labels JSON")
    data.add_argument("--val-fraction", type=float, default=0.1, help="stratified hold-out for model selection")
    data.add_argument("--no-val", action="store_true", help="no validation: keep the last weights")
    data.add_argument("--classes", help="train only on the classes listed in this file (base-to-novel: base)")
    data.add_argument("--k-shot", type=int, help="train on K videos per class (few-shot / base-to-novel)")
    data.add_argument("--k-shot-seed", type=int, default=1, help="which K-shot draw (the protocols use 1, 2, 3)")
    data.add_argument("--descriptions", help="class,description CSV (one text per class, as the released models)")
    data.add_argument(
        "--templates",
        choices=TEMPLATE_CHOICES,
        default=TEMPLATE_CHOICES[0],
        help="without descriptions: ActionCLIP's 16 templates (one drawn per clip), or bare names",
    )
    data.add_argument("--no-flip", action="store_true", help="no horizontal flip (direction-sensitive classes, SSv2)")
    data.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help=f"data-loader processes per GPU/process (default {default_workers()}: at most the CPUs)",
    )


def _model_arguments(model: argparse._ArgumentGroup) -> None:
    model.add_argument(
        "--model",
        default="ezclip-vit-b16",
        help="an architecture (ezclip_zoo.list_models()) or a "
        "checkpoint name / zoo folder to continue from (ezclip_zoo.load)",
    )
    model.add_argument("--no-pretrained-backbone", action="store_true", help="random CLIP (tests and demos only)")
    model.add_argument("--num-frames", type=int, help="frames per clip (architectures only; default 8)")
    model.add_argument("--drop-path", type=float, help="stochastic depth (architectures only; default 0.1)")
    model.add_argument("--prompt-dropout", type=float, help="prompt dropout (architectures only; default 0.1)")


def _optimisation_arguments(opt: argparse._ArgumentGroup) -> None:
    from ..train.config import TrainConfig

    d = TrainConfig()
    opt.add_argument("--epochs", type=int, default=d.epochs)
    opt.add_argument("--batch-size", type=int, default=d.batch_size, help="clips per process per micro-batch")
    opt.add_argument("--grad-accum", type=int, default=d.grad_accum_steps, help="micro-batches per optimizer step")
    opt.add_argument("--lr", type=float, default=d.lr)
    opt.add_argument("--min-lr", type=float, default=d.min_lr)
    opt.add_argument("--text-lr", type=float, help="peak lr of the text adapters (default: --lr; 0 freezes them)")
    opt.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs)
    opt.add_argument("--warmup-steps", type=int, help="overrides --warmup-epochs")
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay)
    opt.add_argument("--max-grad-norm", type=float, help="clip the gradient norm (off by default, as the reference)")
    opt.add_argument("--motion-weight", type=float, default=d.motion_weight, help="0 turns the motion loss off")
    opt.add_argument(
        "--loss",
        choices=LOSSES,
        default=d.loss,
        help="contrastive loss: the reference's softmax KL (default), or the backbone's sigmoid loss (SigLIP)",
    )
    opt.add_argument("--precision", choices=PRECISIONS, default=d.precision)
    opt.add_argument(
        "--grad-checkpointing",
        action="store_true",
        help="recompute blocks in backward: much less memory, more time (small GPUs)",
    )
    opt.add_argument("--seed", type=int, default=d.seed)


def _run_arguments(run_group: argparse._ArgumentGroup) -> None:
    run_group.add_argument("--output", required=True, help="run folder: checkpoint.pt, best/, model/, logs")
    run_group.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt")
    run_group.add_argument("--eval-every", type=int, default=1, help="validate every N epochs")
    run_group.add_argument("--checkpoint-every", type=int, help="also checkpoint every N optimizer steps")
    run_group.add_argument("--log-every", type=int, default=10)
    run_group.add_argument("--device", help="default: this process's GPU, else CPU")
    run_group.add_argument("--threads", type=int, help="torch CPU threads per process")


def _config(args: argparse.Namespace) -> TrainConfig:
    from ..train.config import TrainConfig

    return TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum_steps=args.grad_accum,
        lr=args.lr,
        min_lr=args.min_lr,
        text_lr=args.text_lr,
        warmup_epochs=args.warmup_epochs,
        warmup_steps=args.warmup_steps,
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        motion_weight=args.motion_weight,
        loss=args.loss,
        precision=args.precision,
        grad_checkpointing=args.grad_checkpointing,
        seed=args.seed,
        num_workers=args.workers,
        eval_every_epochs=args.eval_every,
        checkpoint_every_steps=args.checkpoint_every,
        log_every_steps=args.log_every,
        device=args.device,
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from ..train.recipe import finetune

    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format=f"%(asctime)s [rank {rank}] %(message)s",
        datefmt="%H:%M:%S",
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {
        k: v
        for k, v in (
            ("num_frames", args.num_frames),
            ("drop_path", args.drop_path),
            ("prompt_dropout", args.prompt_dropout),
        )
        if v is not None
    }
    result = finetune(
        args.model,
        format=args.format,
        video_root=args.video_root,
        annotations=args.annotations,
        split=args.split,
        train=args.train,
        val=args.val,
        labels=args.labels,
        val_fraction=args.val_fraction,
        validate=not args.no_val,
        classes=args.classes,
        k_shot=args.k_shot,
        k_shot_seed=args.k_shot_seed,
        descriptions=args.descriptions,
        templates=None if args.templates == "none" else args.templates,
        flip=not args.no_flip,
        pretrained_backbone=not args.no_pretrained_backbone,
        overrides=overrides or None,
        config=_config(args),
        output_dir=args.output,
        resume=args.resume,
        progress=show_progress(args),
    )
    if rank == 0:
        print(
            json.dumps(
                {
                    "model_dir": str(result.model_dir),
                    "selected": result.selected,
                    "steps": result.state.global_step,
                    "best_val_top1": result.state.best_metric,
                    "skipped_videos": result.state.skipped_videos,
                    "seconds": round(result.seconds, 1),
                }
            )
        )
    return 0
