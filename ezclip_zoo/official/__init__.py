"""The authors' checkpoints: reading their ``torch.save`` files into an `EZCLIP` (``ezclip_zoo.zoo.conversion``
turns them into zoo folders)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .checkpoint import (
        assemble,
        load_official_checkpoint,
        official_config,
        read_official_state_dict,
        split_official_state_dict,
    )

__all__ = [
    "assemble",
    "load_official_checkpoint",
    "official_config",
    "read_official_state_dict",
    "split_official_state_dict",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".checkpoint": (
            "assemble",
            "load_official_checkpoint",
            "official_config",
            "read_official_state_dict",
            "split_official_state_dict",
        ),
    },
)
