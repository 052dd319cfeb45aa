"""See what the model sees: per-frame attention maps of a video (`explain`) and how much of a map lies inside a mask
(`mass_in_mask`). Pictures of them are `ezclip_zoo.figures`' (`save_overlay`, `overlay_image`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .maps import (
        Explanation,
        attention_maps,
        explain,
        explain_frames,
        normalize_maps,
    )
    from .measure import mass_in_mask

__all__ = [
    "Explanation",
    "attention_maps",
    "explain",
    "explain_frames",
    "mass_in_mask",
    "normalize_maps",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".maps": (
            "Explanation",
            "attention_maps",
            "explain",
            "explain_frames",
            "normalize_maps",
        ),
        ".measure": ("mass_in_mask",),
    },
)
