"""Forward passes of the two CLIP towers with the EZ-CLIP parts inserted.

Each tower module owns only the EZ-CLIP parts (prompts, adapters, drop-path); the frozen open_clip modules are
passed in at call time, so the backbone stays an unmodified open_clip model.
"""

from .text import TextTower
from .video import VideoTower

__all__ = ["TextTower", "VideoTower"]
