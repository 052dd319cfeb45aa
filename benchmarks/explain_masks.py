"""Do the explanation maps point at the moving shape? Mass of each map inside the shape's mask vs the mask's area.

On synthetic motion clips (a white shape moving on black, `ezclip_zoo.synthetic`) the object is known pixel by
pixel. Two models are trained on the same frozen random tiny CLIP with an 8 x 8 patch grid (64 px, patch 8):
EZ-CLIP (temporal prompts + adapters + motion loss) and the base model (adapters only, ``temporal_prompts=False``).
For every held-out clip and method, ``mass`` is the share of the map's mass (`Explanation.maps`, [T, 64, 64])
inside the shape's mask, averaged over frames and clips; ``area`` is the mask's share of the frame; ``ratio`` =
mass / area (1: the map ignores the shape; higher: it concentrates on it). The class-specific method explains the
clip's true class. Rows "(untrained)" are the same models before training, to show what training changed.

    python benchmarks/explain_masks.py                       # the README table
    python benchmarks/explain_masks.py --steps 100 --test-clips 16   # a quick look
    python benchmarks/explain_masks.py --save-model runs/motion64 --save-video runs/motion64/clip.mp4
    python benchmarks/explain_masks.py --time-model ezclip-vit-b16   # also time each method on a B/16 (random)

Accuracy (held-out top-1 and within-pair, each clip in both frame orders) is printed so the reader can judge how
well each model learned: maps of a model that learned nothing say little. CPU threads are pinned (default 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import device_line, set_threads  # noqa: E402

import ezclip_zoo  # noqa: E402
from ezclip_zoo.choices import EXPLAIN_METHODS as METHODS  # noqa: E402
from ezclip_zoo.evaluation import evaluate  # noqa: E402
from ezclip_zoo.saliency import explain_frames, mass_in_mask  # noqa: E402
from ezclip_zoo.synthetic import MotionClips, MotionVideoConfig, within_pair_accuracy  # noqa: E402
from ezclip_zoo.train import TrainConfig, fit  # noqa: E402
from ezclip_zoo.zoo.architectures import tiny_clip_config  # noqa: E402

VARIANTS = {"ezclip": (True, 1.0), "base": (False, 0.0)}  # name: (temporal prompts, motion-loss weight)
TEST_SEED = 10_000


def build(prompts: bool, args) -> ezclip_zoo.EZCLIP:
    torch.manual_seed(args.seed)  # the same frozen random CLIP for both variants
    return ezclip_zoo.create_model(
        "ezclip-test-tiny",
        pretrained_backbone=False,
        backbone={"model_cfg": tiny_clip_config(args.size, args.patch, args.width, args.layers)},
        num_frames=args.frames,
        temporal_prompts=prompts,
        drop_path=0.0,
    )


def train(model, motion_weight: float, video: MotionVideoConfig, args) -> float:
    data = MotionClips(args.steps * args.batch_size, seed=1000 + args.seed, config=video)
    config = TrainConfig(
        epochs=1,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=max(1, args.steps // 10),
        motion_weight=motion_weight,
        seed=args.seed,
        precision="fp32",
        log_every_steps=max(1, args.steps // 5),
    )
    start = time.perf_counter()
    fit(model, data, config, class_texts=[[name] for name in data.classes])
    return time.perf_counter() - start


def accuracy(model, video: MotionVideoConfig, args) -> tuple[float, float]:
    test = MotionClips(args.test_clips, seed=TEST_SEED, config=video, both_orders=True)
    result = evaluate(model, test, [[name] for name in test.classes], batch_size=64, keep_scores=True)
    return result.top1, within_pair_accuracy(result.scores, result.labels)


def mask_scores(model, video: MotionVideoConfig, args) -> dict[str, dict[str, float]]:
    """Per method: mean mass inside the mask, mean mask area, their ratio and seconds per clip."""
    test = MotionClips(args.test_clips, seed=TEST_SEED, config=video)
    out = {}
    for method in METHODS:
        masses, areas, seconds = [], [], []
        for i in range(len(test)):
            frames, masks, label = test.clip_with_masks(i)
            start = time.perf_counter()
            result = ezclip_zoo.explain(model, frames, label, method=method, classes=test.classes)
            seconds.append(time.perf_counter() - start)
            mass, area = mass_in_mask(result.maps, torch.from_numpy(masks))
            masses.append(float(mass.mean()))
            areas.append(float(area.mean()))
        mass, area = statistics.fmean(masses), statistics.fmean(areas)
        out[method] = {"mass": mass, "area": area, "ratio": mass / area, "seconds": statistics.median(seconds)}
    return out


def time_methods(name: str, repeats: int = 3) -> dict[str, float]:
    """Median seconds of the model passes of each method (`explain_frames`) on one random 8-frame clip."""
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(name, pretrained_backbone=False).eval()
    frames = torch.randn(model.num_frames, 3, model.image_size, model.image_size)
    with torch.no_grad():
        text = torch.nn.functional.normalize(model.encode_text(["juggling"]), dim=-1)[None]
    out = {}
    for method in ("none",) + METHODS:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            if method == "none":
                with torch.no_grad():
                    model.encode_video(frames[None])
            else:
                explain_frames(model, frames, method, text, 0)
            times.append(time.perf_counter() - start)
        out[method] = statistics.median(times)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--size", type=int, default=64, help="frame side (pixels)")
    p.add_argument("--patch", type=int, default=8, help="patch side: size / patch = the grid side (8)")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument(
        "--pairs",
        nargs="+",
        default=["horizontal", "scale"],
        help="motion pairs (at an 8 x 8 grid the random backbone did not learn horizontal vs vertical)",
    )
    p.add_argument("--test-clips", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--save-model", help="save the trained EZ-CLIP here (a zoo folder `ezclip-zoo explain -m` reads)")
    p.add_argument("--save-video", help="write held-out clip 0 here as a video file (for `ezclip-zoo explain`)")
    p.add_argument("--time-model", help="also time each method on this architecture (random weights)")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    set_threads(args.threads)
    print(device_line())
    print("settings:", json.dumps({k: v for k, v in vars(args).items() if k not in ("json",)}))
    video = MotionVideoConfig(size=args.size, num_frames=args.frames, pairs=tuple(args.pairs))
    rows = []
    for variant, (prompts, motion_weight) in VARIANTS.items():
        model = build(prompts, args)
        rows.append(
            {
                "model": f"{variant} (untrained)",
                "top1": None,
                "within_pair": None,
                "maps": mask_scores(model, video, args),
            }
        )
        seconds = train(model, motion_weight, video, args)
        top1, within = accuracy(model, video, args)
        rows.append(
            {
                "model": variant,
                "top1": top1,
                "within_pair": within,
                "train_seconds": round(seconds, 1),
                "maps": mask_scores(model, video, args),
            }
        )
        print(
            f"{variant}: held-out top-1 {top1:.1f}%, within-pair {within:.1f}%, trained in {seconds:.0f} s", flush=True
        )
        if variant == "ezclip" and args.save_model:
            ezclip_zoo.save_pretrained(model, args.save_model)
    if args.save_video:
        from ezclip_zoo.video import write_video

        frames, _, label = MotionClips(1, seed=TEST_SEED, config=video).clip_with_masks(0)
        Path(args.save_video).parent.mkdir(parents=True, exist_ok=True)
        write_video(args.save_video, frames, fps=8, codec="libx264", crf=10)
        print(f"wrote {args.save_video}: class {video.classes[label]!r}")
    print(f"\nchance: top-1 {100 / len(video.classes):.0f}%, within-pair 50%; ratio 1 = the map ignores the shape\n")
    print("| method | model | held-out top-1 % | within-pair % | mass in mask | mask area | ratio | s / clip |")
    print("|---|---|---|---|---|---|---|---|")
    for method in METHODS:
        for r in rows:
            m = r["maps"][method]
            acc = ("-", "-") if r["top1"] is None else (f"{r['top1']:.1f}", f"{r['within_pair']:.1f}")
            print(
                f"| {method} | {r['model']} | {acc[0]} | {acc[1]} | {m['mass']:.3f} | {m['area']:.3f} | "
                f"{m['ratio']:.2f} | {m['seconds']:.3f} |"
            )
    timing = None
    if args.time_model:
        timing = time_methods(args.time_model)
        print(f"\n{args.time_model}, 8 frames, random weights: seconds per clip (median of 3)")
        print("| encode_video (no map) | attention | rollout | gradient |\n|---|---|---|---|")
        print(" | ".join(f"{timing[k]:.2f}" for k in ("none",) + METHODS).join(("| ", " |")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "rows": rows, "timing": timing, "torch": torch.__version__}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
