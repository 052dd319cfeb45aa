"""Pictures of results (PNG): attention maps over the frames they were computed on (`save_overlay`, `overlay_image`;
Pillow only) and the localisation timeline (`save_timeline`; matplotlib, the optional extra ``plot``, imported only
when drawing)."""

from .overlay import overlay_image, save_overlay
from .timeline import save_timeline

__all__ = ["overlay_image", "save_overlay", "save_timeline"]
