"""The inference options, declared once: `InferenceOptions` (a frozen dataclass, validated on creation) is what
every inference function passes down; `InferenceKwargs` types the same fields as keyword arguments."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import torch
from typing_extensions import TypedDict

from ..choices import BACKENDS, BATCH_SIZE, PROTOCOLS, STRATEGIES
from ..precision import COMPUTE_DTYPES, autocast_dtype
from ..transforms.eval import VideoTransform

__all__ = ["InferenceOptions", "InferenceKwargs", "make_options"]


@dataclass(frozen=True)
class InferenceOptions:
    """How videos become clip embeddings.

    Attributes:
        batch_size: clips per video-encoder forward pass.
        num_clips, num_crops: multi-view testing (temporal clips x spatial crops 1 or 3, probabilities averaged).
        protocol: ``"clip"`` (the backbone's open_clip preprocessing) or ``"reference"`` (short side 256, centre
            crop 224, as the paper evaluates).
        dtype: compute dtype, e.g. ``torch.bfloat16`` (autocast over a float32 model); None: the model's own dtype
            (a model converted with ``model.to(torch.bfloat16)`` runs in bf16 throughout).
        strategy: frame decoding, ``"auto"``, ``"sequential"`` or ``"seek"`` (the same frames either way).
        backend: ``"pyav"`` or ``"torchcodec"``.
    """

    batch_size: int = BATCH_SIZE
    num_clips: int = 1
    num_crops: int = 1
    protocol: str = "clip"
    dtype: torch.dtype | None = None
    strategy: str = "auto"
    backend: str = "pyav"

    def __post_init__(self) -> None:
        for name in ("batch_size", "num_clips"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.num_crops not in (1, 3):
            raise ValueError(f"num_crops must be 1 or 3, got {self.num_crops!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.dtype is not None and self.dtype not in COMPUTE_DTYPES:
            raise ValueError(f"dtype must be one of {COMPUTE_DTYPES}, got {self.dtype!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")

    def transform(self, model: Any) -> VideoTransform:
        """The test-time transform of ``model`` under these options."""
        return VideoTransform.from_model(model, protocol=self.protocol, num_crops=self.num_crops)

    def autocast_dtype(self, model: Any) -> torch.dtype | None:
        """The autocast dtype for ``model`` (None: run in its own dtype)."""
        return autocast_dtype(self.dtype, device=model.device, model_dtype=model.dtype)


class InferenceKwargs(TypedDict, total=False):
    """`InferenceOptions` fields as keyword arguments (``classify(model, v, names, batch_size=4)``)."""

    batch_size: int
    num_clips: int
    num_crops: int
    protocol: str
    dtype: torch.dtype | None
    strategy: str
    backend: str


def make_options(options: InferenceOptions | None, overrides: Mapping[str, Any]) -> InferenceOptions:
    """``options`` (default: the defaults) with keyword ``overrides``; an unknown keyword is a TypeError naming it."""
    known = [f.name for f in fields(InferenceOptions)]
    unknown = [k for k in overrides if k not in known]
    if unknown:
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
        raise TypeError(
            "unknown inference options "
            + ", ".join(f"{k!r}" + (f" (did you mean {v[0]!r}?)" if v else "") for k, v in hints.items())
            + f"; the options are {known}"
        )
    base = options if options is not None else InferenceOptions()
    if not isinstance(base, InferenceOptions):
        raise TypeError(f"options must be an InferenceOptions, got {type(base).__name__}")
    return replace(base, **overrides) if overrides else base
