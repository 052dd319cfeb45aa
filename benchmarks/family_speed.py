"""EZ-CLIP's video encoder over each B/16 backbone family against that plain backbone on the same frames.

    python benchmarks/family_speed.py --repeats 8            # every B/16 family, float32 and bfloat16, CPU
    python benchmarks/family_speed.py --models ezclip-siglip2-b16 --dtypes bfloat16

The baseline is the backbone as open_clip builds it (``open_clip.create_model(name)``, with the activation its tag
was trained with), built on its own and given the same (random) weights: its ``encode_image`` on the B x T frames.
EZ-CLIP's is ``encode_frames`` on the same frames: the temporal prompts and adapters on top of the same blocks (the
OpenAI layout through ezclip-zoo's fused kernels, timm trunks through their own modules). Each ratio is measured in
one process, the two encoders timed round-robin (``--repeats`` calls each, median), ``--runs`` times with both
models built anew; the table gives the median ratio and its spread. GFLOPs: 2 x multiply-adds counted by
``torch.utils.flop_counter``; their ratio is the arithmetic EZ-CLIP adds, and the bar is time ratio <= that + 0.03.
"""

from __future__ import annotations

import argparse
import statistics

import open_clip
import torch
from _common import device_line, interleaved_medians, print_table, set_threads
from encoder_speed import gflops, spread

import ezclip_zoo

FAMILIES = ["ezclip-vit-b16", "ezclip-vit-b16-laion2b", "ezclip-siglip2-b16", "ezclip-pe-core-b16", "ezclip-eva02-b16"]


def build(name: str, dtype: torch.dtype, frames: int) -> tuple[ezclip_zoo.EZCLIP, torch.nn.Module]:
    """An EZ-CLIP model (random weights, fixed seed) and the plain backbone built separately with its weights."""
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(name, pretrained_backbone=False, num_frames=frames).to(dtype=dtype).eval()
    backbone = model.config.backbone
    plain = open_clip.create_model(backbone.model, force_quick_gelu=bool(backbone.quick_gelu))
    plain.load_state_dict(model.clip.state_dict())
    return model, plain.to(dtype=dtype).eval().requires_grad_(False)


def encoders(model: ezclip_zoo.EZCLIP, plain: torch.nn.Module, frames: torch.Tensor) -> list:
    """The two functions one run times: the plain backbone on every frame, then EZ-CLIP on the clips."""
    flat = frames.flatten(0, 1)
    return [lambda: plain.encode_image(flat), lambda: model.encode_frames(frames)]


def measure(name: str, dtype_name: str, args: argparse.Namespace) -> list[str]:
    dtype = getattr(torch, dtype_name)
    runs, flops, family = [], None, ""
    for _ in range(args.runs):
        model, plain = build(name, dtype, args.frames)
        family = model.family
        size = model.image_size
        frames = torch.randn(args.clips, args.frames, 3, size, size, dtype=dtype)
        fns = encoders(model, plain, frames)
        with torch.inference_mode():
            runs.append(interleaved_medians(fns, repeats=args.repeats, warmup=args.warmup))
        if flops is None:
            flops = gflops(fns[0]) / args.clips, gflops(fns[1]) / args.clips
        del model, plain, fns
    plain_ms = statistics.median(r[0] for r in runs) * 1e3 / args.clips
    ez_ms = statistics.median(r[1] for r in runs) * 1e3 / args.clips
    ratios = [r[1] / r[0] for r in runs]
    arithmetic = flops[1] / flops[0]
    ok = "yes" if statistics.median(ratios) <= arithmetic + 0.03 else "no"
    return [
        name,
        family,
        dtype_name,
        f"{plain_ms:.0f}",
        f"{ez_ms:.0f}",
        spread(ratios),
        f"{flops[0]:.1f}",
        f"{flops[1]:.1f}",
        f"{arithmetic:.3f}",
        ok,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=FAMILIES)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=1, help="clips per call (batch)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    set_threads(args.threads)
    rows = [measure(name, dtype_name, args) for name in args.models for dtype_name in args.dtypes]
    print(
        f"Plain backbone: open_clip.create_model(name) built separately, same weights; {args.frames} frames, "
        f"{args.clips} clip(s) per call; ratios: median (lowest-highest) of {args.runs} runs of {args.repeats} "
        f"interleaved calls; {device_line()}"
    )
    header = [
        "model",
        "family",
        "dtype",
        "backbone ms/clip",
        "EZ-CLIP ms/clip",
        "EZ/backbone time",
        "backbone GFLOPs",
        "EZ-CLIP GFLOPs",
        "EZ/backbone GFLOPs",
        "within +0.03",
    ]
    print_table(header, rows)


if __name__ == "__main__":
    main()
