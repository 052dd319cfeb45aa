"""Does our EZ-CLIP learn motion? Time-reversed class pairs that frame-averaging cannot separate.

Every class has a partner that is exactly its time reversal ("moving right" played backwards is "moving left",
with the same distribution of frames), so a model that encodes frames independently and averages them, the
paper's "base model", scores exactly 50% between the members of a pair. Three variants are trained on the same
frozen random tiny CLIP, each over several seeds, and tested on held-out clips shown in both frame orders:

* ``ezclip``: temporal prompts + adapters + motion loss (the paper's model);
* ``no-motion``: temporal prompts + adapters, contrastive loss only;
* ``base``: adapters only (no temporal prompts), contrastive loss only.

    python examples/motion_benchmark.py                      # the full benchmark: 3 variants x 3 seeds
    python examples/motion_benchmark.py --steps 50 --seeds 0  # a quick look
    python examples/motion_benchmark.py --family pe-core --steps 800 --seeds 0 1 2 3 4 --variants ezclip base

``--family`` picks the random backbone (`ezclip_zoo.synthetic.backbones`): ``openai`` (the default, open_clip's own
CLIP), ``siglip2`` and ``pe-core`` (the families' timm trunks, their linear layers drawn as open_clip draws its
CLIP's: `init_motion_trunk`), ``siglip2-causal-text`` (the SigLIP-like vision side under the PE-like text tower).

Classes: moving right / left, moving down / up, growing / shrinking (3 pairs, 6 classes); ``--pairs rotation``
adds rotating clockwise / anticlockwise, which the reference trials did not learn at 32 px.

Every choice is pinned below (and printed): a random backbone gives a weak signal, and the settings that the
trials with the reference implementation found to work are 32 x 32 frames with patch 16 (5 tokens per frame), a
white shape on black, drop-path 0, lr 3e-3 with warm-up + cosine, batch 32, 1500 steps. CPU threads are pinned
(default 1) because the result of a float32 run depends on how reductions are split across threads.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time

import torch

import ezclip_zoo
from ezclip_zoo.evaluation import evaluate, mean_std
from ezclip_zoo.synthetic import MOTION_PAIRS, MotionClips, MotionVideoConfig, within_pair_accuracy
from ezclip_zoo.synthetic.backbones import MOTION_FAMILIES, init_motion_trunk, motion_backbone, teach_text_tower
from ezclip_zoo.train import TrainConfig, fit

VARIANTS = {
    # name: (temporal prompts, motion-loss weight)
    "ezclip": (True, 1.0),
    "no-motion": (True, 0.0),
    "base": (False, 0.0),
}
TEST_SEED = 10_000  # held-out clips: a seed no training set uses (training sets use 1000 + run seed)
TEACH_SEED = 20_000  # --teach-text's random token strings: 20000 + run seed


def _text(args) -> dict:
    """The family's text tower with ``--text-mask`` / ``--text-pool`` in place of its own."""
    text = {}
    if args.text_mask != "family":
        text["no_causal_mask"] = args.text_mask == "none"
    if args.text_pool != "family":
        text["pool_type"] = {"last": "last", "eot": "argmax"}[args.text_pool]
    return text


def run_one(variant: str, seed: int, args) -> dict:
    prompts, motion_weight = VARIANTS[variant]
    video = MotionVideoConfig(size=args.size, num_frames=args.frames, pairs=tuple(args.pairs), colour=args.colour)
    torch.manual_seed(seed)  # the same frozen random CLIP (and adapter init) for every variant of a seed
    model = ezclip_zoo.create_model(
        "ezclip-test-tiny",
        pretrained_backbone=False,
        backbone=motion_backbone(
            args.family, size=args.size, patch=args.patch, width=args.width, layers=args.layers, text=_text(args)
        ),
        num_frames=args.frames,
        temporal_prompts=prompts,
        drop_path=args.drop_path,
        prompt_dropout=args.prompt_dropout,
    )
    init_motion_trunk(model, seed)  # timm trunks drawn as open_clip draws its random CLIP; OpenAI layout unchanged
    if args.teach_text:  # the random text tower first taught to carry its words to where it pools
        teach_text_tower(model, TEACH_SEED + seed, steps=args.teach_text)
    train = MotionClips(args.steps * args.batch_size, seed=1000 + seed, config=video)
    test = MotionClips(args.test_clips, seed=TEST_SEED, config=video, both_orders=True)
    texts = [[name] for name in train.classes]
    config = TrainConfig(
        epochs=1,
        batch_size=args.batch_size,
        lr=args.lr,
        text_lr=args.text_lr,
        loss=args.loss,
        warmup_steps=args.warmup_steps,
        motion_weight=motion_weight,
        seed=seed,
        precision="fp32",
        log_every_steps=max(1, args.steps // 5),
    )
    start = time.perf_counter()
    fit(model, train, config, class_texts=texts)
    train_s = time.perf_counter() - start
    result = evaluate(model, test, texts, batch_size=128, keep_scores=True)
    return {
        "family": args.family,
        "variant": variant,
        "seed": seed,
        "top1": result.top1,
        "within_pair": within_pair_accuracy(result.scores, result.labels),
        "train_seconds": round(train_s, 1),
        "test_clips": result.num_videos,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--family", choices=MOTION_FAMILIES, default="openai", help="the random backbone's family")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--text-lr", type=float, help="peak lr of the text adapters (default: --lr)")
    p.add_argument("--loss", choices=("softmax", "sigmoid"), default="softmax", help="contrastive loss")
    p.add_argument(
        "--text-mask",
        choices=("family", "causal", "none"),
        default="family",
        help="the text tower's attention mask (default: the family's own)",
    )
    p.add_argument(
        "--text-pool",
        choices=("family", "last", "eot"),
        default="family",
        help="where the text tower pools: the last position or the end-of-text token (default: the family's own)",
    )
    p.add_argument(
        "--teach-text",
        type=int,
        default=0,
        metavar="STEPS",
        help="first distil the random text tower from itself run causally and pooled at the end-of-text token, "
        "for STEPS steps on random token strings (teach_text_tower; SigLIP 2's shape needs it to tell names apart)",
    )
    p.add_argument("--warmup-steps", type=int, help="default: 10%% of --steps")
    p.add_argument("--pairs", nargs="+", choices=list(MOTION_PAIRS), default=["horizontal", "vertical", "scale"])
    p.add_argument("--colour", choices=("white", "random"), default="white")
    p.add_argument("--size", type=int, default=32, help="frame side (pixels)")
    p.add_argument("--patch", type=int, default=16)
    p.add_argument("--width", type=int, default=128, help="vision width of the random CLIP")
    p.add_argument("--layers", type=int, default=4, help="vision layers of the random CLIP")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--drop-path", type=float, default=0.0)
    p.add_argument("--prompt-dropout", type=float, default=0.1)
    p.add_argument("--test-clips", type=int, default=256, help="held-out clips, each shown in both orders")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    if args.warmup_steps is None:
        args.warmup_steps = max(1, args.steps // 10)
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    settings = {k: v for k, v in vars(args).items() if k != "json"}
    cpu = platform.processor() or platform.machine()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {cpu}")
    print("settings:", json.dumps(settings))

    runs = []
    print("\n| variant | seed | top-1 % | within-pair % | train s |\n|---|---|---|---|---|", flush=True)
    for seed in args.seeds:
        for variant in args.variants:
            r = run_one(variant, seed, args)
            runs.append(r)
            print(
                f"| {variant} | {seed} | {r['top1']:.1f} | {r['within_pair']:.1f} | {r['train_seconds']:.0f} |",
                flush=True,
            )
    print("\n| variant | top-1 % (mean +- std) | within-pair % (mean +- std) | per seed (within-pair) | train s |")
    print("|---|---|---|---|---|")
    summary = {}
    for variant in args.variants:
        rs = [r for r in runs if r["variant"] == variant]
        t1, wp = mean_std([r["top1"] for r in rs]), mean_std([r["within_pair"] for r in rs])
        secs = sum(r["train_seconds"] for r in rs) / len(rs)
        summary[variant] = {"top1": t1, "within_pair": wp, "train_seconds_mean": secs}
        per_seed = " / ".join(f"{r['within_pair']:.1f}" for r in rs)
        print(f"| {variant} | {t1[0]:.1f} +- {t1[1]:.1f} | {wp[0]:.1f} +- {wp[1]:.1f} | {per_seed} | {secs:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "settings": settings,
                    "runs": runs,
                    "summary": summary,
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
