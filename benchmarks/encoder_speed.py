"""EZ-CLIP video encoder vs open_clip's frame-wise encode_image on the same frames, plus GFLOPs per clip.

    python benchmarks/encoder_speed.py                       # B/32 and B/16, float32 and bfloat16, CPU
    python benchmarks/encoder_speed.py --device cuda --clips 16

Every row is a ratio measured in one process (median over interleaved repeats), since absolute times vary between
machines. Weights are random: speed does not depend on their values. "EZ/CLIP, open_clip MLP" is an ablation that
runs the frozen MLPs as open_clip's modules instead of ezclip-zoo's fused form, so it shows what the prompts and
adapters alone cost over the same CLIP kernels.
"""

from __future__ import annotations

import argparse
import contextlib

import torch
from torch.utils.flop_counter import FlopCounterMode

import ezclip_zoo
import ezclip_zoo.modeling.towers.video as video_module
from _common import device_line, interleaved_medians, print_table, set_threads


def gflops(fn) -> float:
    """GFLOPs of one call. nn.MultiheadAttention's fused fast path and the fused SDPA kernels are invisible to
    the counter, so count with the fast path off and SDPA in its decomposed math form."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            fn()
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops() / 1e9


@contextlib.contextmanager
def open_clip_mlp():
    """Ablation: run the frozen MLPs as open_clip's own modules (QuickGELU as three element-wise passes) instead
    of the fused SiLU form, to show what EZ-CLIP's prompts and adapters cost over the same CLIP kernels."""
    saved = video_module.mlp_forward
    video_module.mlp_forward = lambda mlp, x: mlp(x)
    try:
        yield
    finally:
        video_module.mlp_forward = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["ezclip-vit-b32", "ezclip-vit-b16"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=1, help="clips per call (batch)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="also time EZ-CLIP under torch.compile")
    args = parser.parse_args()
    set_threads(args.threads)
    torch.manual_seed(0)

    rows = []
    for name in args.models:
        base = ezclip_zoo.create_model(name, pretrained_backbone=False, num_frames=args.frames)
        size = base.image_size
        for dtype_name in args.dtypes:
            dtype = getattr(torch, dtype_name)
            model = base.to(device=args.device, dtype=dtype)
            frames = torch.randn(args.clips, args.frames, 3, size, size, device=args.device, dtype=dtype)
            flat = frames.flatten(0, 1)
            with torch.inference_mode():
                clip_fn = lambda: model.clip.encode_image(flat)  # noqa: E731
                ez_fn = lambda: model.encode_frames(frames)  # noqa: E731

                def ez_open_clip_mlp():
                    with open_clip_mlp():
                        return model.encode_frames(frames)

                fns = [clip_fn, ez_fn, ez_open_clip_mlp]
                if args.compile:
                    compiled = ezclip_zoo.create_model(name, pretrained_backbone=False, num_frames=args.frames)
                    compiled = compiled.to(device=args.device, dtype=dtype).compile()
                    fns.append(lambda: compiled.encode_frames(frames))
                times = interleaved_medians(fns, repeats=args.repeats, warmup=args.warmup, device=args.device)
            # the FLOP counter's module tracker needs autograd on: count outside inference_mode / no_grad
            flops_clip, flops_ez = gflops(clip_fn) / args.clips, gflops(ez_fn) / args.clips
            row = [name, dtype_name, f"{1e3 * times[0] / args.clips:.0f}", f"{1e3 * times[1] / args.clips:.0f}",
                   f"{times[1] / times[0]:.3f}", f"{times[2] / times[0]:.3f}", f"{flops_clip:.1f}", f"{flops_ez:.1f}"]
            if args.compile:
                row.append(f"{times[3] / times[0]:.3f}")
            rows.append(row)
    header = ["model", "dtype", "CLIP ms/clip", "EZ-CLIP ms/clip", "EZ/CLIP time", "EZ/CLIP, open_clip MLP",
              "CLIP GFLOPs/clip",
              "EZ-CLIP GFLOPs/clip"] + (["compiled EZ/CLIP"] if args.compile else [])
    print(f"{args.frames} frames, {args.clips} clip(s) per call; GFLOPs = 2 x multiply-adds (torch FlopCounterMode); "
          f"{device_line(args.device)}")
    print_table(header, rows)


if __name__ == "__main__":
    main()
