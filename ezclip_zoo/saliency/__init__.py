"""See what the model sees: per-frame attention maps of a video (`explain`) and how much of a map lies inside a mask
(`mass_in_mask`). Pictures of them are `ezclip_zoo.figures`' (`save_overlay`, `overlay_image`)."""

from .maps import CLASS_SPECIFIC_METHODS, METHODS, Explanation, attention_maps, explain, explain_frames, normalize_maps
from .measure import mass_in_mask

__all__ = [
    "CLASS_SPECIFIC_METHODS",
    "METHODS",
    "Explanation",
    "attention_maps",
    "explain",
    "explain_frames",
    "mass_in_mask",
    "normalize_maps",
]
