"""Shared helpers of the benchmark scripts: interleaved timing, the machine line, table printing."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable, Sequence

import torch


def device_line(device: str = "cpu") -> str:
    """One line naming where the numbers come from."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"device: {cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def full_finetune_loss(clip: torch.nn.Module, frames: torch.Tensor, tokens: torch.Tensor,
                       labels: torch.Tensor) -> torch.Tensor:
    """The ViFi-CLIP-style baseline: open_clip's own CLIP on every frame [B, T, 3, H, W], frame-mean pooling,
    the reference's KL contrastive loss at CLIP's temperature."""
    import torch.nn.functional as F

    from ezclip_zoo.modeling.losses import kl_contrastive_loss

    b, t = frames.shape[:2]
    video = clip.encode_image(frames.flatten(0, 1)).view(b, t, -1).mean(1)
    text = clip.encode_text(tokens)
    logits = clip.logit_scale.exp() * F.normalize(video, dim=-1) @ F.normalize(text, dim=-1).T
    return kl_contrastive_loss(logits, labels)


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(fns: Sequence[Callable[[], object]], *, repeats: int, warmup: int, device: str = "cpu") -> list[float]:
    """Median seconds per call of each function, timed round-robin so that drifts hit all of them alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    sync(device)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A GitHub-markdown table (pastes straight into the README)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells[1:]:
        print(line(r))


def env_threads_note() -> str:
    return f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
