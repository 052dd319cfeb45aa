"""The one precision helper: what ``dtype=`` (inference) and ``precision=`` (evaluation, training) mean, and the
autocast context that runs it. A float32 model under bf16 autocast computes its matmuls in bfloat16."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

from .choices import PRECISIONS

__all__ = ["COMPUTE_DTYPES", "autocast_dtype", "autocast", "autocast_context", "resolve_precision"]

COMPUTE_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
Precision = str | torch.dtype | None


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``"auto"`` -> ``"bf16"`` on a GPU that supports it, else ``"fp32"``; other values are checked and returned."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    device = torch.device(device)
    return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"


def autocast_dtype(
    precision: Precision, *, device: str | torch.device = "cpu", model_dtype: torch.dtype | None = None
) -> torch.dtype | None:
    """The autocast dtype that ``precision`` asks for, or None to run in the model's own dtype.

    Args:
        precision: None (the model's dtype), a torch dtype (``torch.bfloat16``...), or ``"fp32"``/``"bf16"``/``"auto"``.
        device: where the model runs (for ``"auto"``).
        model_dtype: the model's parameter dtype; asking for it is no autocast.
    """
    if precision is None:
        return None
    if isinstance(precision, str):
        return torch.bfloat16 if resolve_precision(precision, device) == "bf16" else None
    if precision not in COMPUTE_DTYPES:
        raise ValueError(f"dtype must be one of {COMPUTE_DTYPES}, got {precision!r}")
    return None if precision == model_dtype else precision


def autocast(device: str | torch.device, dtype: torch.dtype | None) -> AbstractContextManager[torch.autocast | None]:
    """``torch.autocast`` to ``dtype`` on ``device``'s type; a no-op for None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


def autocast_context(device: str | torch.device, precision: str) -> AbstractContextManager[torch.autocast | None]:
    """The autocast of a ``precision`` string (``"fp32"``, ``"bf16"``, ``"auto"``)."""
    return autocast(device, autocast_dtype(precision, device=device))
