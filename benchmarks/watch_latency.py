"""Latency of `watch` at real time: a generated 320 x 240, 25 fps H.264 file released at 1x real time, windows of
2 s every 0.5 s and 1 s, with the tiny model and a random-weight ViT-B/16 in bfloat16. Prints, per setting, the
windows scored and skipped (share), and the latency median and p95 (from the arrival of the frame completing a
window to its result).

    python benchmarks/watch_latency.py                 # the table of docs/live.md (about 3 minutes)
    python benchmarks/watch_latency.py --quick         # the tiny model on 6 s (a check that the script runs)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import device_line, print_table, set_threads

import ezclip_zoo
from ezclip_zoo.video import write_video


def _video(path: Path, seconds: int, fps: int = 25) -> None:
    x = np.arange(320, dtype=np.int32)[None, :] + np.arange(240, dtype=np.int32)[:, None]
    frames = [np.repeat(((x + 4 * i) % 256).astype(np.uint8)[..., None], 3, axis=2) for i in range(seconds * fps)]
    write_video(path, np.stack(frames), fps=fps, keyframe_interval=2 * fps)


def _models(quick: bool) -> list[tuple[str, ezclip_zoo.EZCLIP, torch.dtype | None]]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # untrained-model warnings: the scores do not matter here
        models = [("tiny (ezclip-test-tiny) fp32", ezclip_zoo.load("ezclip-test-tiny"), None)]
        if not quick:
            b16 = ezclip_zoo.create_model("ezclip-vit-b16", pretrained_backbone=False)
            models.append(("ViT-B/16 random weights, bf16", b16, torch.bfloat16))
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="stream length (default 30)")
    parser.add_argument("--strides", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="tiny model, 6 s, one stride")
    args = parser.parse_args()
    set_threads(args.threads)
    seconds, strides = (6, [0.5]) if args.quick else (args.seconds, args.strides)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.mp4"
        _video(path, seconds)
        for name, model, dtype in _models(args.quick):
            for stride in strides:
                live = ezclip_zoo.watch(
                    model, str(path), ["dancing", "juggling", "riding a bike"], stride_s=stride, pace=1.0, dtype=dtype
                )
                with live:
                    for _ in live:
                        pass
                s = live.summary
                rows.append(
                    [
                        name,
                        f"{stride:g}",
                        s.windows,
                        f"{s.skipped} ({s.skipped_share:.0%})",
                        f"{(s.latency_median_s or 0) * 1000:.0f}",
                        f"{(s.latency_p95_s or 0) * 1000:.0f}",
                    ]
                )
    print(f"watch at 1x real time, {seconds} s of 320x240 25 fps H.264, 2 s windows; {device_line()}")
    print_table(["model", "stride s", "scored", "skipped (share)", "latency median ms", "p95 ms"], rows)


if __name__ == "__main__":
    main()
