"""The one source of frame preprocessing: the test-time transform (`VideoTransform`) and train-time
augmentation (`ClipAugment`), used by inference, evaluation and the datasets alike.

The names are imported on first use (PEP 562); `pixels` (resize, crop and normalise with PIL and numpy) needs no
torch and is shared with `ezclip_zoo.runtime`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .eval import VideoTransform, preprocess_config, preprocess_frames
    from .pixels import crop_offsets
    from .train import ClipAugment

__all__ = [
    "ClipAugment",
    "VideoTransform",
    "crop_offsets",
    "preprocess_config",
    "preprocess_frames",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".eval": ("VideoTransform", "preprocess_config", "preprocess_frames"),
        ".pixels": ("crop_offsets",),
        ".train": ("ClipAugment",),
    },
)
