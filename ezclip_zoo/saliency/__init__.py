"""See what the model sees: per-frame attention maps of a video (`explain`), as numbers and as pictures
(`save_overlay`), and how much of a map lies inside a mask (`mass_in_mask`)."""

from .maps import CLASS_SPECIFIC_METHODS, METHODS, Explanation, attention_maps, explain, explain_frames, normalize_maps
from .measure import mass_in_mask
from .overlay import overlay_image, save_overlay

__all__ = [
    "CLASS_SPECIFIC_METHODS",
    "METHODS",
    "Explanation",
    "attention_maps",
    "explain",
    "explain_frames",
    "mass_in_mask",
    "normalize_maps",
    "overlay_image",
    "save_overlay",
]
