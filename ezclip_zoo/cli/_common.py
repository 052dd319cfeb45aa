"""Options and helpers shared by the subcommands: model and video arguments, device checks, progress, workers."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from ..choices import BACKENDS, BATCH_SIZE, CROPS, DTYPE_NAMES, PROTOCOLS, STRATEGIES

if TYPE_CHECKING:
    from ..inference.batch import BatchReport
    from ..inference.options import InferenceOptions
    from ..modeling.model import EZCLIP

__all__ = [
    "add_model_arguments",
    "add_video_arguments",
    "load_model",
    "check_device",
    "inference_options",
    "expand_videos",
    "show_progress",
    "summary",
    "available_cpus",
    "default_workers",
    "add_progress_arguments",
    "add_segment_arguments",
    "segment_arguments",
]


def add_model_arguments(p: argparse.ArgumentParser, *, default: str | None = None) -> None:
    """``--model`` (required unless a ``default`` is given), ``--device``, ``--dtype`` and ``--seed``."""
    p.add_argument(
        "--model",
        "-m",
        required=default is None,
        default=default,
        metavar="NAME|PATH",
        help="checkpoint name (ezclip-zoo list), hf-hub:ORG/REPO, a folder from save_pretrained, or an "
        "architecture name for a fresh random-weight model (e.g. ezclip-test-tiny)"
        + (f" (default: {default})" if default else ""),
    )
    p.add_argument("--device", default=None, help="torch device, e.g. cuda or cpu (default: cpu)")
    p.add_argument(
        "--dtype",
        choices=sorted(DTYPE_NAMES),
        default="float32",
        help="model dtype; bfloat16 is several times faster on recent CPUs and GPUs (default float32)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random init for architecture names (default 0)")


def add_video_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("videos", nargs="*", metavar="VIDEO", help="video files, or folders (searched recursively)")
    p.add_argument("--clips", type=int, default=1, help="temporal views per video (default 1)")
    p.add_argument("--crops", type=int, choices=CROPS, default=1, help="spatial views per frame (default 1)")
    p.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=PROTOCOLS[0],
        help="preprocessing: the backbone's open_clip transform (clip) or short side 256 + centre crop "
        "224 as the paper evaluates (reference)",
    )
    p.add_argument("--strategy", choices=STRATEGIES, default=STRATEGIES[0], help="frame decoding")
    p.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0], help="video decoder")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"clips per forward pass (default {BATCH_SIZE})")
    p.add_argument("--workers", type=int, default=0, help="decoding processes (default 0: decode in-process)")
    p.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="FILE.jsonl",
        help="write JSON Lines here, resuming a previous run into the same file",
    )
    p.add_argument("--overwrite", action="store_true", help="with --output: start the file afresh instead of resuming")
    p.add_argument("--retry-errors", action="store_true", help="with --output: try videos recorded as errors again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_segment_arguments(p: argparse.ArgumentParser, *, stride: float | None) -> None:
    """The sliding windows (``--window``, ``--stride``) and the segment rule's options (``--background``,
    ``--min-score``, ``--keep-score``, ``--min-margin``, ``--min-duration``, ``--merge-gap``, ``--min-windows``,
    ``--extent``), one spelling for ``localize`` and ``watch``; ``stride`` is the command's default stride (None:
    half a window). `segment_arguments` turns them into the keyword arguments of `localize` and `watch`."""
    p.add_argument("--window", type=float, default=2.0, metavar="S", help="window length in seconds (default 2)")
    p.add_argument(
        "--stride",
        type=float,
        default=stride,
        metavar="S",
        help="seconds between window starts (default: " + ("half a window" if stride is None else f"{stride:g}") + ")",
    )
    p.add_argument(
        "--background",
        action="append",
        default=[],
        metavar="TEXT",
        help="a text meaning 'no action' (repeatable): scored with the classes, never a segment",
    )
    p.add_argument("--min-score", type=float, default=0.5, help="probability that opens a segment (default 0.5)")
    p.add_argument(
        "--keep-score",
        type=float,
        default=None,
        help="probability an open segment needs to continue (hysteresis; default: --min-score)",
    )
    p.add_argument("--min-margin", type=float, default=0.0, help="lead over the next class to open a segment")
    p.add_argument("--min-duration", type=float, default=0.0, metavar="S", help="drop shorter segments (seconds)")
    p.add_argument(
        "--merge-gap",
        type=float,
        default=0.0,
        metavar="S",
        help="merge segments of one class at most this far apart (seconds)",
    )
    p.add_argument("--min-windows", type=int, default=1, help="drop segments found in fewer windows (default 1)")
    p.add_argument(
        "--extent",
        choices=("windows", "cells"),
        default="windows",
        help="segment ends: span their windows (default) or each window's stretch nearest its centre",
    )


def segment_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of `localize` and `watch` that `add_segment_arguments`' options give: ``window_s``,
    ``stride_s``, ``background``, ``min_score``, ``keep_score``, ``min_margin``, ``min_duration_s``,
    ``merge_gap_s``, ``min_windows``, ``extent``."""
    return {
        "window_s": args.window,
        "stride_s": args.stride,
        "background": args.background,
        "min_score": args.min_score,
        "keep_score": args.keep_score,
        "min_margin": args.min_margin,
        "min_duration_s": args.min_duration,
        "merge_gap_s": args.merge_gap,
        "min_windows": args.min_windows,
        "extent": args.extent,
    }


def check_device(device: str | None) -> None:
    """A one-line error for a device this machine does not have (instead of a traceback deep in torch)."""
    import torch

    if device is None:
        return
    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError):
        raise ValueError(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1, mps)") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"--device {device}: no CUDA GPU is available on this machine (torch {torch.__version__}); use --device cpu"
        )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {device}: Apple's MPS is not available here; use --device cpu")


def load_model(args: argparse.Namespace, **kwargs: Any) -> EZCLIP:
    """The model ``--model`` names, through `ezclip_zoo.load` (its one resolution order and defaults) with
    ``--device``, ``--dtype`` and ``--seed``; ``kwargs`` go to `load` as well."""
    import torch

    from ..zoo.loading import load

    check_device(args.device)
    return load(args.model, device=args.device, dtype=getattr(torch, DTYPE_NAMES[args.dtype]), seed=args.seed, **kwargs)


def inference_options(args: argparse.Namespace) -> InferenceOptions:
    """The `InferenceOptions` the video arguments describe (built once, validated there)."""
    from ..inference import InferenceOptions

    return InferenceOptions(
        batch_size=args.batch_size,
        num_clips=args.clips,
        num_crops=args.crops,
        protocol=args.protocol,
        strategy=args.strategy,
        backend=args.backend,
    )


def expand_videos(paths: list[str]) -> list[str]:
    """Files as given; folders replaced by the video files under them."""
    from ..inference import find_videos

    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = find_videos(p)
            if not found:
                print(f"warning: no video files in folder {p!r}", file=sys.stderr)
            out.extend(found)
        else:
            out.append(p)
    return out


def show_progress(args: argparse.Namespace) -> bool:
    """Progress bars only for a person watching: stderr is a terminal and neither --no-progress nor --quiet."""
    return not getattr(args, "no_progress", False) and not getattr(args, "quiet", False) and sys.stderr.isatty()


def add_progress_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars (log lines still go to files)")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(cap: int = 4) -> int:
    """Data-loader processes by default: up to ``cap``, never more than the CPUs available."""
    return min(cap, available_cpus())


def summary(report: BatchReport, what: str) -> str:
    parts = [f"{report.processed - report.failed} {what}"]
    if report.failed:
        parts.append(f"{report.failed} failed")
    if report.skipped:
        parts.append(f"{report.skipped} skipped (already in the output)")
    return ", ".join(parts) + (f" -> {report.output}" if report.output else "")
