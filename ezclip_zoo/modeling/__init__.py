"""The model layer: `EZCLIP` over a frozen open_clip CLIP, its configs, towers, layers and losses.

It knows nothing of files, the Hub, video or datasets: other layers hand it tensors, texts and local weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .config import BackboneConfig, EZCLIPConfig
    from .losses import ezclip_loss, kl_contrastive_loss, motion_loss
    from .model import EZCLIP

__all__ = [
    "BackboneConfig",
    "EZCLIP",
    "EZCLIPConfig",
    "ezclip_loss",
    "kl_contrastive_loss",
    "motion_loss",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".config": ("BackboneConfig", "EZCLIPConfig"),
        ".losses": ("ezclip_loss", "kl_contrastive_loss", "motion_loss"),
        ".model": ("EZCLIP",),
    },
)
