"""The authors' checkpoints: reading their ``torch.save`` files and converting them into zoo folders."""

from .checkpoint import load_official_checkpoint, official_config, read_official_state_dict, split_official_state_dict
from .convert import ConversionReport, convert_official

__all__ = [
    "ConversionReport",
    "convert_official",
    "load_official_checkpoint",
    "official_config",
    "read_official_state_dict",
    "split_official_state_dict",
]
