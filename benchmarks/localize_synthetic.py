"""Long videos: how well `localize` finds actions of known start and end, and what streaming saves.

Accuracy: long synthetic videos (`ezclip_zoo.synthetic.render_long_video`: background stretches where a shape
stands still, then actions of a shape moving right / left / down / up, order and lengths from seeds) scored by a
tiny EZ-CLIP trained on windows of such videos, beside the paper's base model (no temporal prompts, trained the
same way): a leftward segment is a rightward one played backwards, so only a model that reads frame order can tell
them apart. Two "no action" rules: the background class ("staying still", trained) and a plain score threshold
over the actions alone. Metrics: frame accuracy, segment mAP at tIoU 0.3 / 0.5 / 0.7 (THUMOS14), false positives
on background-only videos.

Speed, as ratios in one run: decode + preprocess per window against reading each window on its own (what calling
`classify` per window does: open, index, decode from the keyframe, preprocess), and end to end against
`classify` per window, for the tiny model and a random-weight ViT-B/16.

    python benchmarks/localize_synthetic.py            # the README tables (about 10 minutes on 2 cores)
    python benchmarks/localize_synthetic.py --quick    # a smaller look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import device_line  # noqa: E402

import ezclip_zoo  # noqa: E402
from ezclip_zoo.evaluation.detection import detection_report  # noqa: E402
from ezclip_zoo.inference import classify  # noqa: E402
from ezclip_zoo.localization import localize, plan_windows  # noqa: E402
from ezclip_zoo.localization.pipeline import open_frames, window_views  # noqa: E402
from ezclip_zoo.synthetic import (  # noqa: E402
    STILL_CLASS,
    LongVideoConfig,
    MotionVideoConfig,
    WindowClips,
    frame_labels,
    render_long_video,
    train_motion_model,
)
from ezclip_zoo.transforms.eval import VideoTransform  # noqa: E402
from ezclip_zoo.video import open_video, write_video  # noqa: E402

TEST_SEED = 50_000


def frame_predictions(result, video) -> list:
    n = video.frames.shape[0]
    return [result.label_at((i + 0.5) / video.fps) for i in range(n)]


def accuracy_rows(model, config, args) -> list[tuple[str, object]]:
    videos = [render_long_video(config, TEST_SEED + s) for s in range(args.videos)]
    empty = [render_long_video(config, TEST_SEED + 1000 + s, num_segments=0) for s in range(args.videos)]
    rules = {
        "background class": dict(background=(STILL_CLASS,), min_windows=args.min_windows),
        "threshold only": dict(min_score=args.threshold, min_windows=args.min_windows),
    }
    rows = []
    for rule_name, rule in rules.items():
        preds, frames_pred = [], []
        for v in videos:
            r = localize(model, v.frames, config.actions, fps=v.fps, window_s=args.window, stride_s=args.stride, **rule)
            preds.append(r.segments)
            frames_pred.append(frame_predictions(r, v))
        report = detection_report(preds, [v.segments for v in videos], frames_pred, [frame_labels(v) for v in videos])
        fp_empty = sum(
            len(
                localize(
                    model, v.frames, config.actions, fps=v.fps, window_s=args.window, stride_s=args.stride, **rule
                ).segments
            )
            for v in empty
        )
        rows.append((rule_name, report, fp_empty, sum(v.duration for v in empty)))
    return rows


def print_accuracy(results: dict, args) -> None:
    print(
        f"\n{args.videos} long videos ({results['_truth']} true actions, {results['_seconds']:.0f} s) and "
        f"{args.videos} background-only videos; windows {args.window:g} s every {args.stride:g} s, "
        f"min_windows {args.min_windows}\n"
    )
    print(
        "| model | no-action rule | frame acc % | mAP@0.3 | mAP@0.5 | mAP@0.7 | FP segments on background "
        "(in action videos) | FP segments in background-only videos |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in ("EZ-CLIP", "base model"):
        for rule, report, fp_empty, seconds in results[name]:
            m = report.map
            print(
                f"| {name} | {rule} | {report.frame_accuracy:.1f} | {m[0.3]:.1f} | {m[0.5]:.1f} | {m[0.7]:.1f} | "
                f"{report.false_positives} ({report.fp_seconds:.1f} s) | {fp_empty} in {seconds:.0f} s |"
            )


def _long_file(path: str, seconds: int, fps: int = 25, size=(360, 640)) -> None:
    """A long H.264 file at a typical long GOP (keyframe every 250 frames) with moving content."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]

    def frames():
        for i in range(seconds * fps):
            img = np.empty((h, w, 3), np.uint8)
            img[..., 0] = (xx + 3 * i) % 256
            img[..., 1] = (yy + 2 * i) % 256
            img[..., 2] = ((xx + yy) // 4 + i) % 256
            yield img

    write_video(path, frames(), fps=fps, keyframe_interval=250)


def speed_rows(model, path: str, args, label: str) -> list[str]:
    classes = ["a", "b", "c", "d"]
    transform = VideoTransform.from_model(model)
    reader, _ = open_frames(path, fps=None, backend="pyav")
    layout = plan_windows(reader.frame_times(), model.num_frames, args.window, args.stride)
    n = len(layout.windows)

    def streamed():
        r, _ = open_frames(path, fps=None, backend="pyav")
        for _ in window_views(r, layout, transform):
            pass

    def per_window():
        for plan in layout.windows:
            open_video(path).decode(list(plan.indices), transform=transform)

    def localize_all():
        localize(model, path, classes, window_s=args.window, stride_s=args.stride, batch_size=8)

    def classify_each():
        for plan in layout.windows:
            frames, _ = open_video(path).decode(list(plan.indices))
            classify(model, torch.stack(frames), classes, batch_size=1)

    rows = []
    for what, fast, slow in (
        ("decode + preprocess", streamed, per_window),
        ("end to end", localize_all, classify_each),
    ):
        if what == "end to end" and label.startswith("ViT") and args.quick:
            continue
        t_fast = min(_time(fast) for _ in range(args.repeats))
        t_slow = min(_time(slow) for _ in range(args.repeats))
        rows.append(
            f"| {label} | {what} | {n} | {1000 * t_fast / n:.1f} | {1000 * t_slow / n:.1f} | {t_slow / t_fast:.1f}x |"
        )
    return rows


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer steps, videos and seconds")
    p.add_argument("--steps", type=int, default=1200, help="training steps of each tiny model (batch 32)")
    p.add_argument("--videos", type=int, default=20)
    p.add_argument("--window", type=float, default=2.0)
    p.add_argument("--stride", type=float, default=0.5)
    p.add_argument("--min-windows", type=int, default=2)
    p.add_argument("--threshold", type=float, default=0.9, help="min_score of the threshold-only rule")
    p.add_argument("--speed-seconds", type=int, default=60, help="length of the speed test video")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.videos, args.speed_seconds, args.repeats = 300, 4, 20, 1
    torch.set_num_threads(args.threads)
    print(device_line())
    config = LongVideoConfig(clip=MotionVideoConfig(size=32, pairs=("horizontal", "vertical"), still=True))
    train = WindowClips(args.steps * 32, seed=1000, config=config)
    results: dict = {}
    models = {}
    for name, prompts in (("EZ-CLIP", True), ("base model", False)):
        start = time.perf_counter()
        models[name] = train_motion_model(train, seed=0, temporal_prompts=prompts)
        print(f"trained {name} ({args.steps} steps) in {time.perf_counter() - start:.0f} s", flush=True)
        results[name] = accuracy_rows(models[name], config, args)
    vids = [render_long_video(config, TEST_SEED + s) for s in range(args.videos)]
    results["_truth"] = sum(len(v.segments) for v in vids)
    results["_seconds"] = sum(v.duration for v in vids)
    print_accuracy(results, args)

    print(
        f"\nspeed: a {args.speed_seconds} s 640x360 25 fps H.264 file (keyframe every 250 frames), windows "
        f"{args.window:g} s every {args.stride:g} s, best of {args.repeats}\n"
    )
    print("| model | work | windows | localize ms/window | per-window ms/window | ratio |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.mp4")
        _long_file(path, args.speed_seconds)
        for row in speed_rows(models["EZ-CLIP"], path, args, "tiny (32 px)"):
            print(row, flush=True)
        torch.manual_seed(0)
        b16 = ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False).to(torch.bfloat16)
        short = os.path.join(tmp, "short.mp4")
        _long_file(short, max(10, args.speed_seconds // 3))
        for row in speed_rows(b16, short, args, "ViT-B/16 bf16"):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
