"""Which of two equal-valued kernels a step runs, chosen by measuring them on the machine at hand.

Two steps of the towers have implementations that compute the same values (to float rounding) at speeds that depend
on the CPU: per-frame attention (``"attention"``: PyTorch's fused ``scaled_dot_product_attention``, ``"sdpa"``, or
its math form as two batched GEMMs around a softmax, ``"math"``) and the patch embedding (``"patch_embed"``: the
strided convolution, ``"conv"``, or the same product as one GEMM over the cut-out patches, ``"gemm"``). Which is
faster was measured to flip between CPUs (an AMD EPYC without AMX and an Intel Xeon with it) and between float32
and bfloat16, so no single rule holds.

`choose` times the candidates on the real inputs the first time a (step, CPU, torch version, threads, dtype, shape)
is met, a few interleaved calls each, and keeps the faster for the rest of the process (in memory only: a new process
measures again, which takes milliseconds). It never times while PyTorch traces or compiles (``torch.export``, ONNX
export, ``torch.compile``), while autograd records, or off the CPU: the step's default then runs, so exported graphs
and training do not depend on a timing. ``EZCLIP_KERNELS="attention=math,patch_embed=conv"`` (or `pinned_kernels`)
fixes choices, for reproducible runs; ``EZCLIP_KERNELS=default`` times nothing and runs each step's default (what
the test suite does, so that its results do not depend on a timing; the fast-path tests run every candidate pinned).
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping

import torch

__all__ = ["CANDIDATES", "ENV_VAR", "choose", "pinned_kernels", "chosen_kernels", "machine_key"]

CANDIDATES: dict[str, tuple[str, ...]] = {"attention": ("sdpa", "math"), "patch_embed": ("conv", "gemm")}
ENV_VAR = "EZCLIP_KERNELS"
_REPEATS = 3  # timed calls of each candidate (after one warm-up call each), interleaved; the median decides

_chosen: dict[tuple, str] = {}
_pins: dict[str, str] = {}


@functools.lru_cache(maxsize=8)  # read on every CPU attention call: parsed once per value of the variable
def _parse(text: str) -> dict[str, str]:
    if text.strip() == "default":
        return {}
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        op, _, name = item.partition("=")
        if op not in CANDIDATES or name not in CANDIDATES[op]:
            raise ValueError(
                f"{ENV_VAR}={text!r}: {item!r} is not STEP=KERNEL with one of "
                + "; ".join(f"{k}: {', '.join(v)}" for k, v in CANDIDATES.items())
            )
        out[op] = name
    return out


def _pinned(op: str) -> str | None:
    return _pins.get(op) or _parse(os.environ.get(ENV_VAR, "")).get(op)


def _defaults_only() -> bool:
    return os.environ.get(ENV_VAR, "").strip() == "default"


@contextlib.contextmanager
def pinned_kernels(**choices: str) -> Iterator[None]:
    """Run with these kernels, e.g. ``with pinned_kernels(attention="math"):`` (over ``EZCLIP_KERNELS``)."""
    _parse(",".join(f"{k}={v}" for k, v in choices.items()))  # checks the names
    saved = dict(_pins)
    _pins.update(choices)
    try:
        yield
    finally:
        _pins.clear()
        _pins.update(saved)


@functools.cache
def machine_key() -> str:
    """The CPU this process runs on, as the choices key it: its model name and instruction-set flags, PyTorch's
    vectorisation level and version (a choice made on one machine says nothing about another)."""
    name, flags = "", ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and not name:
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "fma")
                    flags = " ".join(sorted(f for f in line.split(":", 1)[1].split() if f in wanted))
    except OSError:
        pass
    return f"{name}|{flags}|{torch.backends.cpu.get_cpu_capability()}|torch {torch.__version__}"


def _timing_allowed(device: torch.device) -> bool:
    if device.type != "cpu" or torch.is_grad_enabled():
        return False
    return not (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling())


def choose(op: str, key: tuple, device: torch.device, runners: Mapping[str, Callable[[], object]], default: str) -> str:
    """The kernel to run for step ``op`` on inputs described by ``key`` (dtype, shapes...).

    Args:
        op: a key of `CANDIDATES`.
        key: what besides the machine and threads the speed depends on (dtype and shapes).
        device: where the inputs are (only the CPU is timed).
        runners: candidate name -> a call running it on the real inputs.
        default: the candidate when nothing is timed (tracing, compiling, autograd recording, not the CPU).

    Returns:
        A pinned choice, else the default when timing is off (``EZCLIP_KERNELS=default``) or not allowed, else the
        faster candidate (timed once).
    """
    pinned = _pinned(op)
    if pinned is not None:
        return pinned
    if _defaults_only() or not _timing_allowed(device):
        return default
    full = (op, machine_key(), torch.get_num_threads(), *key)
    if full not in _chosen:
        names = [name for name in CANDIDATES[op] if name in runners]
        for name in names:
            runners[name]()
        times: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(_REPEATS):
            for name in names:
                start = time.perf_counter()
                runners[name]()
                times[name].append(time.perf_counter() - start)
        _chosen[full] = min(names, key=lambda n: statistics.median(times[n]))
    return _chosen[full]


def chosen_kernels() -> dict[tuple, str]:
    """The choices made so far in this process: (step, machine, threads, dtype, shapes...) -> kernel."""
    return dict(_chosen)
