"""Shared helpers of the benchmark scripts: interleaved timing, the machine line, table printing."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

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


def full_finetune_loss(
    clip: torch.nn.Module, frames: torch.Tensor, tokens: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
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


def interleaved_medians(
    fns: Sequence[Callable[[], object]], *, repeats: int, warmup: int, device: str = "cpu"
) -> list[float]:
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


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-markdown table (pastes straight into the README); a ``|`` inside a cell is escaped."""
    cells = [[str(c).replace("|", "\\|") for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    lines = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(lines + [line(r) for r in cells[1:]])


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print `format_table`'s markdown table."""
    print(format_table(header, rows))


def open_clip_baseline(model: torch.nn.Module) -> torch.nn.Module:
    """A separately built, unmodified open_clip ``CLIP`` of ``model``'s backbone architecture, with QuickGELU (the
    activation OpenAI's weights use) and the same weights, in ``model``'s dtype and device: the plain-CLIP
    reference of the speed tables, never the EZ-CLIP model's own backbone object.

    Named backbones come from ``open_clip.create_model(name, force_quick_gelu=True)``; a backbone given as a config
    dict (the tiny test models) from ``open_clip.CLIP(**cfg, quick_gelu=True)``, which is what create_model builds.
    """
    import open_clip

    backbone = model.config.backbone
    if backbone.model is not None:
        clip = open_clip.create_model(backbone.model, force_quick_gelu=True)
    else:
        clip = open_clip.CLIP(**backbone.model_cfg, quick_gelu=True)
    clip.load_state_dict(model.clip.state_dict())
    return clip.to(device=model.device, dtype=model.dtype).eval().requires_grad_(False)


def env_threads_note() -> str:
    return f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
