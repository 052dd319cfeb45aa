"""The small trainable and stochastic pieces EZ-CLIP adds to a frozen CLIP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .adapter import Adapter
    from .drop import TokenDropPath
    from .residual import residual_linear
    from .temporal_prompts import TemporalPrompts

__all__ = [
    "Adapter",
    "TemporalPrompts",
    "TokenDropPath",
    "residual_linear",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".adapter": ("Adapter",),
        ".drop": ("TokenDropPath",),
        ".residual": ("residual_linear",),
        ".temporal_prompts": ("TemporalPrompts",),
    },
)
