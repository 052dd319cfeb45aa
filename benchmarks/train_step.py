"""Training step of EZ-CLIP (frozen backbone, prompts + adapters train) vs full fine-tuning of the same CLIP
(ViFi-CLIP style: every CLIP weight trains, frame features averaged), at the same batch: time and peak memory.

    python benchmarks/train_step.py                      # B/16, 8 frames, 4 clips, float32, CPU
    python benchmarks/train_step.py --device cuda --clips 16

Each variant runs in its own process, so that peak memory is measured cleanly: peak resident memory of the process
(``ru_maxrss``) on CPU, ``torch.cuda.max_memory_allocated`` on GPU. "train MB" is the peak minus the memory held
after building the model and optimizer: activations, gradients and optimizer state. Weights are random.
On CPU the workers run with ``MALLOC_MMAP_THRESHOLD_=131072`` (``--malloc returning``): glibc's default heap keeps
freed activation buffers, so peak RSS would otherwise also measure fragmentation; ``--malloc default`` shows it.
EZ-CLIP trains in its reference recipe (attention dropout, drop-path, prompt dropout on); full fine-tuning runs
open_clip's own modules.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import device_line, print_table  # noqa: E402

VARIANTS = ("full-finetune", "ezclip", "ezclip+checkpointing")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def worker(args: argparse.Namespace) -> dict:
    from _common import full_finetune_loss  # this script's folder is on sys.path: workers run it as a script

    import ezclip_zoo
    from ezclip_zoo.modeling.losses import ezclip_loss

    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = ezclip_zoo.create_model(args.model, pretrained_backbone=False, num_frames=args.frames).to(device)
    size = model.image_size
    frames = torch.randn(args.clips, args.frames, 3, size, size, device=device)
    labels = torch.arange(args.clips, device=device) % max(1, args.clips // 2)  # some shared labels
    texts = model.tokenize([f"a video of action number {int(i)}" for i in labels])

    if args.variant == "full-finetune":
        clip = model.clip.train()
        clip.requires_grad_(True)
        params = list(clip.parameters())

        def loss_fn():
            return full_finetune_loss(clip, frames, texts, labels)
    else:
        model.train()
        model.set_grad_checkpointing(args.variant.endswith("checkpointing"))
        params = list(model.trainable_parameters())

        def loss_fn():
            return ezclip_loss(model.encode_frames(frames), model.encode_text(texts), labels, model.train_logit_scale)

    optimizer = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.2)
    trainable = sum(p.numel() for p in params)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        before = _current_rss_mb()
    times = []
    for step in range(args.steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:  # the first step allocates optimizer state and warms kernels up
            times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else _rss_mb()
    return {
        "variant": args.variant,
        "step_s": statistics.median(times),
        "peak_mb": peak,
        "train_mb": peak - before,
        "trainable": trainable,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="ezclip-vit-b16")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2, help="timed steps after one warm-up step")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        "--malloc",
        choices=["returning", "default"],
        default="returning",
        help="CPU only. 'returning' runs the workers with MALLOC_MMAP_THRESHOLD_=131072 so glibc "
        "returns freed tensors to the OS and peak RSS tracks live memory; 'default' leaves "
        "glibc's heap as it is, which keeps freed activation buffers and adds fragmentation",
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # worker mode
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(worker(args)))
        return

    results = run_variants(
        args.model,
        frames=args.frames,
        clips=args.clips,
        steps=args.steps,
        device=args.device,
        variants=args.variants,
        threads=args.threads,
        malloc=args.malloc,
    )
    caption, header, rows = results_table(
        results, model=args.model, frames=args.frames, clips=args.clips, device=args.device, malloc=args.malloc
    )
    print(caption)
    print_table(header, rows)


def run_variants(
    model: str,
    *,
    frames: int,
    clips: int,
    steps: int,
    device: str,
    variants=VARIANTS,
    threads: int | None = None,
    malloc: str = "returning",
) -> dict[str, dict]:
    """Run each variant in a worker process of its own (clean peak memory); variant -> the worker's numbers."""
    results = {}
    for variant in variants:
        cmd = [
            sys.executable,
            __file__,
            "--variant",
            variant,
            "--model",
            model,
            "--frames",
            str(frames),
            "--clips",
            str(clips),
            "--steps",
            str(steps),
            "--device",
            device,
        ]
        if threads:
            cmd += ["--threads", str(threads)]
        env = dict(os.environ)
        if malloc == "returning" and not device.startswith("cuda"):
            env["MALLOC_MMAP_THRESHOLD_"] = "131072"  # fixed threshold: tensors above it are mmapped, freed at once
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        results[variant] = json.loads(out.strip().splitlines()[-1])
    return results


def results_table(
    results: dict[str, dict], *, model: str, frames: int, clips: int, device: str, malloc: str = "returning"
) -> tuple[str, list[str], list[list[str]]]:
    """(caption, header, rows) of `run_variants`' results, each variant against full fine-tuning."""
    ref = results.get("full-finetune")
    rows = []
    for variant, r in results.items():
        rows.append(
            [
                variant,
                f"{r['trainable']:,}",
                f"{r['step_s']:.3f}",
                f"{clips / r['step_s']:.1f}",
                f"{r['peak_mb']:.0f}",
                f"{r['train_mb']:.0f}",
                f"{r['peak_mb'] / ref['peak_mb']:.2f}" if ref else "-",
                f"{r['train_mb'] / ref['train_mb']:.2f}" if ref else "-",
                f"{r['step_s'] / ref['step_s']:.2f}" if ref else "-",
            ]
        )
    memory = "GPU max_memory_allocated" if device.startswith("cuda") else f"process peak RSS, glibc malloc {malloc}"
    caption = (
        f"{model}, {frames} frames x {clips} clips, float32, AdamW; memory = {memory}; "
        f"{device_line(device)} ({next(iter(results.values()))['threads']} threads in workers)"
    )
    return (
        caption,
        [
            "variant",
            "trainable params",
            "s/step",
            "clips/s",
            "peak MB",
            "train MB",
            "peak / full FT",
            "train MB / full FT",
            "time / full FT",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
