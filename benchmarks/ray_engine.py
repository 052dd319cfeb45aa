"""The Ray engine against the local one on the same videos and worker count: videos per second.

    python benchmarks/ray_engine.py [--videos 48] [--model ezclip-test-tiny]

On a small machine Ray's start-up and object-store transfers cost more than they save; the point of the engine is
more machines, which this script cannot show. It reports the honest ratio here.
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
from ezclip_zoo.inference import classify_folder  # noqa: E402
from ezclip_zoo.inference.ray import classify_dataset, init_ray  # noqa: E402
from ezclip_zoo.video import write_video  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--videos", type=int, default=48)
    p.add_argument("--model", default="ezclip-test-tiny")
    p.add_argument("--workers", type=int, default=2, help="local decoding workers = Ray CPUs for decoding")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(device_line())
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(args.model, pretrained_backbone=False)
    classes = ["dancing", "juggling", "surfing", "riding a bike"]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.videos):
            write_video(
                os.path.join(tmp, f"v{i:03d}.mp4"), rng.integers(0, 255, (64, 240, 320, 3), dtype=np.uint8), fps=25
            )
        start = time.perf_counter()
        classify_folder(
            model, tmp, classes, output=os.path.join(tmp, "l.jsonl"), num_workers=args.workers, progress=False
        )
        local = time.perf_counter() - start
        start = time.perf_counter()
        init_ray(num_cpus=args.workers + 1)
        started = time.perf_counter() - start
        start = time.perf_counter()
        classify_dataset(tmp, model, classes, output=os.path.join(tmp, "r.jsonl"), num_actors=1, progress=False)
        remote = time.perf_counter() - start
    print(f"\n{args.videos} videos (64 frames, 320x240), {args.model}, {args.workers} decoding workers\n")
    print("| engine | videos/s | note |\n|---|---|---|")
    print(f"| local (`classify_folder`, {args.workers} DataLoader workers) | {args.videos / local:.1f} | |")
    print(
        f"| Ray (1 actor, {args.workers} CPUs for decoding tasks) | {args.videos / remote:.1f} | "
        f"plus {started:.1f} s to start the local Ray instance |"
    )
    print(f"\nratio Ray / local: {local / remote:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
