"""Every GPU table the README needs, from one call: under 5 minutes on one H100 / H200.

    python benchmarks/gpu_suite.py --device cuda --out gpu_suite.md
    python benchmarks/gpu_suite.py --device cpu --quick --out /tmp/suite.md     # the tiny model, seconds (CI)

Tables, each printed and appended to ``--out`` as soon as it is finished (a run cut short keeps what it measured):

1. throughput: clips/s (and images/s) of EZ-CLIP's video encoder for each model, dtype and batch, with peak memory
   and EZ/CLIP, the time ratio against a separately built, unmodified open_clip CLIP (``force_quick_gelu=True``,
   the same weights) on the same device;
2. compile: ``model.compile()`` against eager at one batch size (bfloat16), with the compile time;
3. training step: EZ-CLIP (prompts + adapters train) vs full fine-tuning of the same CLIP, clips/s and peak memory
   (``benchmarks/train_step.py``'s workers, one process each);
4. text: 400 class texts through the text encoder (``ezclip_zoo.text.encode_texts``);
5. bfloat16 vs float32: top-1 agreement of ``model.classify`` on synthetic clips (``benchmarks/bench_classify.py``);
6. DDP: a one-process NCCL (gloo on CPU) process group, ``DistributedDataParallel`` and a first training step.

``--quick`` shrinks every table to the tiny random model (``ezclip-test-tiny``), small batches and few repeats, so
the suite runs anywhere in seconds; the tests run it that way so that it cannot rot. Weights are random: speed does
not depend on their values; agreement does (see the README). float32 matmuls run in full float32 precision (torch's
default, no TF32).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import device_line, format_table, interleaved_medians, open_clip_baseline, set_threads, sync  # noqa: E402

import ezclip_zoo  # noqa: E402

FULL = {
    "models": ["ezclip-vit-b16", "ezclip-vit-b32"],
    "batches": [1, 8, 32, 128],
    "repeats": 10,
    "warmup": 3,
    "compile_batch": 32,
    "train_clips": 16,
    "train_steps": 3,
    "classes": 400,
    "agreement_videos": 30,
}
QUICK = {
    "models": ["ezclip-test-tiny"],
    "batches": [1, 2],
    "repeats": 2,
    "warmup": 1,
    "compile_batch": 2,
    "train_clips": 2,
    "train_steps": 1,
    "classes": 400,
    "agreement_videos": 3,
}


class Report:
    """Prints each table and appends it to the output file at once."""

    def __init__(self, path: Path | None, device: str) -> None:
        self.path = path
        now = datetime.datetime.now().isoformat(timespec="seconds")
        head = f"# ezclip-zoo GPU suite, {now}\n\n{device_line(device)}\n"
        print(head, flush=True)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(head + "\n")

    def table(self, title: str, caption: str, header: list[str], rows: list[list[str]]) -> None:
        text = f"## {title}\n\n{caption}\n\n{format_table(header, rows)}\n"
        print(text, flush=True)
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(text + "\n")


@contextlib.contextmanager
def peak_memory(device: str) -> Iterator[dict]:
    """Peak GPU memory (MiB, ``max_memory_allocated``) inside the block; None on CPU (one process's peak RSS
    cannot be split between rows)."""
    out: dict = {"mb": None}
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    yield out
    if cuda:
        torch.cuda.synchronize()
        out["mb"] = torch.cuda.max_memory_allocated() / 2**20


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def build(name: str, device: str, dtype: torch.dtype, seed: int = 0) -> ezclip_zoo.EZCLIP:
    """`bench_classify.build`'s random model (non-zero prompts and adapters) on ``device`` in ``dtype``, eval mode."""
    import bench_classify

    return bench_classify.build(name, seed).to(device=device, dtype=dtype).eval()


def throughput_rows(name: str, dtype_name: str, cfg: dict, device: str) -> list[list[str]]:
    """Rows of one model and dtype, one per batch size (the models are freed on return)."""
    model = build(name, device, getattr(torch, dtype_name))
    clip = open_clip_baseline(model)
    size, t = model.image_size, model.num_frames
    rows = []
    for batch in cfg["batches"]:
        frames = torch.randn(batch, t, 3, size, size, device=device, dtype=model.dtype)
        flat = frames.flatten(0, 1)
        with torch.inference_mode():
            with peak_memory(device) as peak:
                model.encode_frames(frames)
            ez_s, clip_s = interleaved_medians(
                [partial(model.encode_frames, frames), partial(clip.encode_image, flat)],
                repeats=cfg["repeats"],
                warmup=cfg["warmup"],
                device=device,
            )
        rows.append(
            [
                name,
                dtype_name,
                str(batch),
                f"{batch / ez_s:.1f}",
                f"{batch * t / ez_s:.0f}",
                f"{batch / clip_s:.1f}",
                f"{ez_s / clip_s:.3f}",
                mb(peak["mb"]),
            ]
        )
    return rows


def throughput(report: Report, cfg: dict, device: str, dtypes: list[str]) -> None:
    rows = []
    for name in cfg["models"]:
        for dtype_name in dtypes:
            rows += throughput_rows(name, dtype_name, cfg, device)
            empty_cache(device)
    report.table(
        "Video encoder throughput",
        f"EZ-CLIP `encode_frames` on random clips of 8 frames; CLIP = separately built open_clip "
        f"`create_model(..., force_quick_gelu=True)` `encode_image` on the same frames; median of {cfg['repeats']} "
        "interleaved calls; peak memory = GPU max_memory_allocated during one EZ-CLIP call (weights included).",
        ["model", "dtype", "batch", "EZ-CLIP clips/s", "EZ-CLIP images/s", "CLIP clips/s", "EZ/CLIP time", "peak MB"],
        rows,
    )


def compiled(report: Report, cfg: dict, device: str) -> None:
    name, batch = cfg["models"][0], cfg["compile_batch"]
    eager = build(name, device, torch.bfloat16)
    fast = build(name, device, torch.bfloat16)
    frames = torch.randn(
        batch, eager.num_frames, 3, eager.image_size, eager.image_size, device=device, dtype=torch.bfloat16
    )
    with torch.inference_mode():
        fast.compile()
        start = time.perf_counter()
        fast.encode_frames(frames)
        sync(device)
        compile_s = time.perf_counter() - start
        eager_s, fast_s = interleaved_medians(
            [lambda: eager.encode_frames(frames), lambda: fast.encode_frames(frames)],
            repeats=cfg["repeats"],
            warmup=cfg["warmup"],
            device=device,
        )
        same = torch.allclose(
            eager.encode_frames(frames).float(), fast.encode_frames(frames).float(), atol=5e-2, rtol=5e-2
        )
    report.table(
        "model.compile()",
        f"{name}, bfloat16, batch {batch}; compile time = the first call; "
        f"median of {cfg['repeats']} interleaved calls.",
        ["model", "batch", "eager clips/s", "compiled clips/s", "speed-up", "compile s", "outputs match"],
        [
            [
                name,
                str(batch),
                f"{batch / eager_s:.1f}",
                f"{batch / fast_s:.1f}",
                f"{eager_s / fast_s:.2f}x",
                f"{compile_s:.1f}",
                "yes" if same else "NO",
            ]
        ],
    )


def training(report: Report, cfg: dict, device: str) -> None:
    import train_step

    name, clips = cfg["models"][0], cfg["train_clips"]
    results = train_step.run_variants(
        name, frames=8, clips=clips, steps=cfg["train_steps"], device=device, variants=("full-finetune", "ezclip")
    )
    caption, header, rows = train_step.results_table(results, model=name, frames=8, clips=clips, device=device)
    report.table("Training step", caption, header, rows)


def text_encoder(report: Report, cfg: dict, device: str, dtypes: list[str]) -> None:
    from bench_classify import class_names

    from ezclip_zoo.text import encode_texts

    names = class_names(cfg["classes"])
    rows = []
    for dtype_name in dtypes:
        model = build(cfg["models"][0], device, getattr(torch, dtype_name))
        with torch.inference_mode():
            encode_texts(model, names)  # loads the BPE vocabulary and fills the tokenizer's word cache
            with peak_memory(device) as peak:
                seconds = interleaved_medians(
                    [partial(encode_texts, model, names)], repeats=max(3, cfg["repeats"] // 2), warmup=1, device=device
                )[0]
        rows.append(
            [
                cfg["models"][0],
                dtype_name,
                str(len(names)),
                f"{seconds * 1e3:.0f}",
                f"{len(names) / seconds:.0f}",
                mb(peak["mb"]),
            ]
        )
    report.table(
        "Text encoder",
        "Class texts through `ezclip_zoo.text.encode_texts` (tokenising included).",
        ["model", "dtype", "texts", "ms", "texts/s", "peak MB"],
        rows,
    )


def agreement(report: Report, cfg: dict, device: str) -> None:
    import bench_classify

    name = cfg["models"][0]
    fp32, bf16 = build(name, device, torch.float32), build(name, device, torch.bfloat16)
    result = bench_classify.agreement(
        fp32, bf16, bench_classify.synthetic_videos(cfg["agreement_videos"]), bench_classify.class_names(cfg["classes"])
    )
    videos = result.pop("videos")
    report.table(
        "bfloat16 vs float32",
        f"{name}, `model.classify` on {videos} synthetic clips x {cfg['classes']} classes (random weights).",
        ["measure", "value"],
        [[k, f"{v:.4g}"] for k, v in result.items()],
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp_start(report: Report, cfg: dict, device: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from ezclip_zoo.modeling.losses import ezclip_loss

    backend = "nccl" if device.startswith("cuda") else "gloo"
    start = time.perf_counter()
    dist.init_process_group(
        backend,
        init_method=f"tcp://127.0.0.1:{free_port()}",
        rank=0,
        world_size=1,
        timeout=datetime.timedelta(minutes=2),
    )
    try:
        init_s = time.perf_counter() - start
        model = build(cfg["models"][0], device, torch.float32).train()
        ddp = DistributedDataParallel(
            model, device_ids=[torch.device(device).index or 0] if backend == "nccl" else None
        )
        clips = cfg["train_clips"]
        frames = torch.randn(clips, model.num_frames, 3, model.image_size, model.image_size, device=device)
        labels = torch.arange(clips, device=device)
        texts = model.tokenize([f"action {i}" for i in range(clips)]).to(device)
        step_s = []
        for _ in range(2):
            sync(device)
            t0 = time.perf_counter()
            loss = ezclip_loss(
                ddp.module.encode_frames(frames), ddp.module.encode_text(texts), labels, model.train_logit_scale
            )
            loss.backward()
            sync(device)
            step_s.append(time.perf_counter() - t0)
        grads = all(p.grad is not None for p in model.trainable_parameters())
    finally:
        dist.destroy_process_group()
    report.table(
        "DDP start",
        f"One process, `{backend}` process group on 127.0.0.1, DistributedDataParallel over "
        f"{cfg['models'][0]}, {clips} clips per step.",
        ["backend", "init_process_group s", "first step s", "second step s", "all trainable grads"],
        [[backend, f"{init_s:.2f}", f"{step_s[0]:.2f}", f"{step_s[1]:.2f}", "yes" if grads else "NO"]],
    )


def empty_cache(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


SECTIONS: dict[str, Callable] = {
    "throughput": lambda r, c, a: throughput(r, c, a.device, a.dtypes),
    "compile": lambda r, c, a: compiled(r, c, a.device),
    "train": lambda r, c, a: training(r, c, a.device),
    "text": lambda r, c, a: text_encoder(r, c, a.device, a.dtypes),
    "agreement": lambda r, c, a: agreement(r, c, a.device),
    "ddp": lambda r, c, a: ddp_start(r, c, a.device),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="the tiny model, small batches, few repeats")
    parser.add_argument("--out", type=Path, default=Path("gpu_suite.md"), help="markdown file the tables go to")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    parser.add_argument("--models", nargs="+", default=None, help="override the models of the throughput table")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch sees no GPU; run with --device cpu --quick for the CPU check")
    set_threads(args.threads)
    cfg = dict(QUICK if args.quick else FULL)
    if args.models:
        cfg["models"] = args.models
    report = Report(args.out, args.device)
    total = time.perf_counter()
    for section in args.sections:
        start = time.perf_counter()
        SECTIONS[section](report, cfg, args)
        empty_cache(args.device)  # the section's models are gone with its frame
        print(f"[{section}: {time.perf_counter() - start:.0f} s]", flush=True)
    print(f"suite finished in {time.perf_counter() - total:.0f} s; tables in {args.out}")


if __name__ == "__main__":
    main()
