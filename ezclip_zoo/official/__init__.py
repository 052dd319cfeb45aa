"""The authors' checkpoints: reading their ``torch.save`` files into an `EZCLIP` (``ezclip_zoo.zoo.conversion``
turns them into zoo folders)."""

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
