"""The small trainable and stochastic pieces EZ-CLIP adds to a frozen CLIP."""

from .adapter import Adapter
from .drop import TokenDropPath
from .residual_linear import residual_linear
from .temporal_prompts import TemporalPrompts

__all__ = ["Adapter", "TemporalPrompts", "TokenDropPath", "residual_linear"]
