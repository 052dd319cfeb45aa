"""Make a long video with known actions and a tiny model that finds them, for `ezclip-zoo localize`.

    python examples/long_video.py runs/long             # trains ~2 minutes on a CPU, writes the model and a video
    ezclip-zoo localize runs/long/video.mp4 -m runs/long/model -l "moving right" -l "moving left" \\
        --background "staying still" --stride 0.5 --min-windows 2 --plot timeline.png --truth runs/long/truth.json

The video (`ezclip_zoo.synthetic.render_long_video`) alternates background, where a shape stands still, with a
shape moving right or left; `truth.json` lists the true segments. The model is the test suite's motion model
(`ezclip_zoo.synthetic.motion_models`: its recipe on windows of such videos; a random frozen 32 px CLIP, so what it
learns is the prompts' and adapters' doing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

import ezclip_zoo
from ezclip_zoo.synthetic import STILL_CLASS, render_long_video
from ezclip_zoo.synthetic.motion_models import WINDOW_BATCH, WINDOW_STEPS, train_window_model, window_config
from ezclip_zoo.video import write_video


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="folder to write model/, video.mp4 and truth.json into")
    p.add_argument(
        "--steps",
        type=int,
        default=WINDOW_STEPS,
        help=f"training steps of {WINDOW_BATCH} clips (default {WINDOW_STEPS})",
    )
    p.add_argument("--seed", type=int, default=0, help="the video's seed (default 0)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    config = window_config()  # moving right / left between stretches of staying still
    model_dir = out / "model"
    if not (model_dir / "config.json").is_file():
        model = train_window_model(seed=0, steps=args.steps)
        ezclip_zoo.save_pretrained(model, model_dir)
    video = render_long_video(config, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    write_video(out / "video.mp4", video.frames, fps=int(video.fps), crf=0)
    truth = [{"label": s.label, "start": s.start, "end": s.end} for s in video.segments]
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    classes = " ".join(f'-l "{c}"' for c in config.actions)
    print(f"model: {model_dir}\nvideo: {out / 'video.mp4'} ({video.duration:.1f} s)\ntruth: {truth}\n")
    print(
        f'ezclip-zoo localize {out / "video.mp4"} -m {model_dir} {classes} --background "{STILL_CLASS}" '
        f"--stride 0.5 --min-windows 2 --plot timeline.png --truth {out / 'truth.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
