"""Pictures of results (PNG): attention maps over the frames they were computed on (`save_overlay`, `overlay_image`;
Pillow only) and the localisation timeline (`save_timeline`; matplotlib, the optional extra ``plot``, imported only
when drawing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .overlay import overlay_image, save_overlay
    from .timeline import save_timeline

__all__ = [
    "overlay_image",
    "save_overlay",
    "save_timeline",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".overlay": ("overlay_image", "save_overlay"),
        ".timeline": ("save_timeline",),
    },
)
