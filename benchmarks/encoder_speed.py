"""EZ-CLIP's video encoder vs plain CLIP (a separately built, unmodified open_clip model) on the same frames.

    python benchmarks/encoder_speed.py --repeats 12          # B/32 and B/16, float32 and bfloat16, CPU
    python benchmarks/encoder_speed.py --device cuda --clips 16

The baseline is ``open_clip.create_model(name, force_quick_gelu=True)`` built on its own (QuickGELU is the activation
OpenAI's weights use) and given the same weights, never the EZ-CLIP model's own backbone object, so nothing
ezclip-zoo does to its backbone can reach it. Each ratio is measured in one process, EZ-CLIP and CLIP timed
round-robin (``--repeats`` calls each, median): absolute times vary between machines, ratios much less. The whole
measurement runs ``--runs`` times (default 3), each with both models built anew (see `measure`); the table gives
the median ratio and the spread (lowest-highest) over the runs. Weights are random: speed does not depend on their
values. GFLOPs: 2 x multiply-adds counted by
``torch.utils.flop_counter``; their ratio is the arithmetic EZ-CLIP adds.

``--ablation`` adds a column: EZ-CLIP with the frozen MLPs run as open_clip's own modules (QuickGELU as three
element-wise passes) instead of ezclip-zoo's fused form and the patch embedding as the convolution instead of one
GEMM, i.e. what the prompts and adapters alone cost over CLIP's own kernels.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics

import torch
from _common import device_line, interleaved_medians, open_clip_baseline, print_table, set_threads
from torch.utils.flop_counter import FlopCounterMode

import ezclip_zoo
import ezclip_zoo.modeling.towers.video as video_module
from ezclip_zoo.modeling.towers.patch_embed import conv_tokens


def gflops(fn) -> float:
    """GFLOPs of one call. nn.MultiheadAttention's fused fast path and the fused SDPA kernels are invisible to
    the counter, so count with the fast path off and SDPA in its decomposed math form; the in-place ``addmm_`` of
    `residual_linear` is counted as the ``addmm`` it is."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        counting = FlopCounterMode(display=False, custom_mapping={torch.ops.aten.addmm_: _addmm_flop})
        with sdpa_kernel(SDPBackend.MATH), counting as counter:
            fn()
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops() / 1e9


def _addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """FLOPs of ``addmm_`` (the counter knows only the out-of-place ``addmm``): 2 x M x K x N."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


@contextlib.contextmanager
def open_clip_kernels():
    """Ablation: run the frozen MLPs as open_clip's own modules (QuickGELU as three element-wise passes) instead of
    the fused SiLU form, and the patch embedding as the convolution, to show what EZ-CLIP's prompts and adapters
    cost over the same CLIP kernels."""
    saved = video_module.mlp_forward, video_module.patch_tokens
    video_module.mlp_forward = lambda mlp, x, residual=None: mlp(x) if residual is None else residual + mlp(x)
    video_module.patch_tokens = conv_tokens
    try:
        yield
    finally:
        video_module.mlp_forward, video_module.patch_tokens = saved


def spread(values: list[float]) -> str:
    """'median (lowest-highest)' of ratios."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def build(name: str, dtype: torch.dtype, args: argparse.Namespace):
    """A fresh EZ-CLIP model and its separately built open_clip baseline, same (seeded random) weights."""
    torch.manual_seed(0)
    model = ezclip_zoo.create_model(name, pretrained_backbone=False, num_frames=args.frames)
    model = model.to(device=args.device, dtype=dtype).eval()
    return model, open_clip_baseline(model)


def encoders(name: str, model, clip, frames: torch.Tensor, args: argparse.Namespace) -> list:
    """The functions one run times: CLIP, EZ-CLIP, then the optional columns."""
    flat = frames.flatten(0, 1)

    def clip_fn():
        return clip.encode_image(flat)

    def ez_fn():
        return model.encode_frames(frames)

    def ez_open_clip_kernels():
        with open_clip_kernels():
            return model.encode_frames(frames)

    fns = [clip_fn, ez_fn] + ([ez_open_clip_kernels] if args.ablation else [])
    if args.compile:
        compiled, plain = build(name, frames.dtype, args)
        compiled.compile()
        plain_compiled = torch.compile(plain.encode_image)
        fns.append(lambda: compiled.encode_frames(frames))
        fns.append(lambda: plain_compiled(flat))
    return fns


def compile_seconds(name: str, dtype: torch.dtype, args: argparse.Namespace) -> float:
    """Seconds of the first call of a freshly compiled EZ-CLIP encoder: what ``model.compile()`` costs at start-up."""
    import time

    torch._dynamo.reset()  # a compilation of its own, not one cached by the run before
    model = build(name, dtype, args)[0].compile()
    frames = torch.randn(args.clips, args.frames, 3, model.image_size, model.image_size, dtype=dtype)
    start = time.perf_counter()
    with torch.inference_mode():
        model.encode_frames(frames)
    return time.perf_counter() - start


def measure(name: str, dtype_name: str, args: argparse.Namespace) -> list[str]:
    """One table row: EZ-CLIP against its separately built open_clip baseline, ``args.runs`` times.

    Each run builds both models anew: where their weights land in memory moves a CPU encoder's time by several
    percent for as long as the process keeps them (seen as 448 vs 481 ms for two copies of the same float32 B/32
    CLIP), so runs that reused one pair of models would repeat one placement instead of sampling it.
    """
    dtype = getattr(torch, dtype_name)
    runs, flops = [], None
    for _ in range(args.runs):
        model, clip = build(name, dtype, args)
        size = model.image_size
        frames = torch.randn(args.clips, args.frames, 3, size, size, device=args.device, dtype=dtype)
        fns = encoders(name, model, clip, frames, args)
        with torch.inference_mode():
            runs.append(interleaved_medians(fns, repeats=args.repeats, warmup=args.warmup, device=args.device))
        if flops is None:
            # the FLOP counter's module tracker needs autograd on: count outside inference_mode / no_grad
            flops = gflops(fns[0]) / args.clips, gflops(fns[1]) / args.clips
        del model, clip, fns
    clip_ms = statistics.median(r[0] for r in runs) * 1e3 / args.clips
    ez_ms = statistics.median(r[1] for r in runs) * 1e3 / args.clips
    ratios = [[r[i] / r[0] for r in runs] for i in range(1, len(runs[0]))]
    if args.compile:  # the last column: compiled EZ-CLIP over compiled CLIP, not over eager CLIP
        ratios[-1] = [r[-2] / r[-1] for r in runs]
        compile_s = compile_seconds(name, dtype, args)
    flops_clip, flops_ez = flops
    return [
        name,
        dtype_name,
        f"{clip_ms:.0f}",
        f"{ez_ms:.0f}",
        *(spread(r) for r in ratios),
        *([f"{compile_s:.0f}"] if args.compile else []),
        f"{flops_clip:.1f}",
        f"{flops_ez:.1f}",
        f"{flops_ez / flops_clip:.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["ezclip-vit-b32", "ezclip-vit-b16"])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=1, help="clips per call (batch)")
    parser.add_argument("--runs", type=int, default=3, help="independent measurements; the table gives their median")
    parser.add_argument("--repeats", type=int, default=12, help="timed calls of each encoder per run")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ablation", action="store_true", help="add the open_clip-MLP ablation column")
    parser.add_argument("--compile", action="store_true", help="also time EZ-CLIP under torch.compile")
    args = parser.parse_args()
    set_threads(args.threads)
    torch.manual_seed(0)

    rows = [measure(name, dtype_name, args) for name in args.models for dtype_name in args.dtypes]
    header = (
        ["model", "dtype", "open_clip CLIP ms/clip", "EZ-CLIP ms/clip", "EZ/CLIP time"]
        + (["EZ/CLIP, open_clip MLP and stem"] if args.ablation else [])
        + (["compiled EZ/eager CLIP", "compiled EZ/compiled CLIP", "compile s (first call)"] if args.compile else [])
        + ["CLIP GFLOPs/clip", "EZ-CLIP GFLOPs/clip", "EZ/CLIP GFLOPs"]
    )
    print(
        f"Baseline: open_clip.create_model(..., force_quick_gelu=True), built separately, same weights. "
        f"{args.frames} frames, {args.clips} clip(s) per call; ratios: median (lowest-highest) of {args.runs} runs "
        f"of {args.repeats} interleaved calls; {device_line(args.device)}"
    )
    print_table(header, rows)


if __name__ == "__main__":
    main()
