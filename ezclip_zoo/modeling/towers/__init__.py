"""Forward passes of the two CLIP towers with the EZ-CLIP parts inserted.

Each tower module owns only the EZ-CLIP parts (prompts, adapters, drop-path); the frozen open_clip modules are
passed in at call time, so the backbone stays an unmodified open_clip model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .text import TextTower
    from .timm_video import TimmVideoTower
    from .video import VideoTower

__all__ = [
    "TextTower",
    "TimmVideoTower",
    "VideoTower",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".text": ("TextTower",),
        ".timm_video": ("TimmVideoTower",),
        ".video": ("VideoTower",),
    },
)
