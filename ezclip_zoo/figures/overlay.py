"""Pictures of an `Explanation` (`ezclip_zoo.saliency`): the sampled frames with their heat maps over them, as one
PNG grid.

Pillow only (a core dependency): the colour map is a piecewise-linear "turbo" (blue = low, red = high).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import PIL.Image

    from ..saliency.maps import Explanation

__all__ = ["overlay_image", "save_overlay", "colorize"]

# (position, RGB) anchors of Google's turbo colour map
_TURBO = np.array(
    [
        [0.00, 48, 18, 59],
        [0.10, 70, 107, 227],
        [0.20, 40, 170, 238],
        [0.30, 26, 228, 182],
        [0.40, 114, 254, 94],
        [0.50, 199, 239, 52],
        [0.60, 250, 186, 57],
        [0.70, 246, 117, 26],
        [0.80, 212, 55, 5],
        [0.90, 162, 18, 1],
        [1.00, 122, 4, 3],
    ],
    dtype=np.float64,
)
_CAPTION = 14  # pixels under each tile for its caption
_TITLE = 18


def colorize(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1], any shape [...] -> uint8 RGB [..., 3] through the turbo colour map."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    channels = [np.interp(v, _TURBO[:, 0], _TURBO[:, c]) for c in (1, 2, 3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


def _blend(frame: np.ndarray, heat: np.ndarray, alpha: float) -> np.ndarray:
    """uint8 frame [S, S, 3] with the coloured map [S, S] over it, ``alpha`` opaque (times the map's value when
    the colour map is faded in, so cold regions keep the frame visible)."""
    colour = colorize(heat).astype(np.float32)
    weight = alpha * (0.35 + 0.65 * np.clip(heat, 0, 1))[..., None]
    return np.rint(frame.astype(np.float32) * (1 - weight) + colour * weight).astype(np.uint8)


def _caption(explanation: Explanation, t: int) -> str:
    text = f"#{explanation.frame_indices[t]}"
    if explanation.timestamps is not None:
        text += f"  {explanation.timestamps[t]:.2f}s"
    return text


def _title(explanation: Explanation) -> str:
    what = explanation.method
    if explanation.class_name is not None:
        what += f" | {explanation.class_name!r} logit {explanation.score:.2f}"
    return f"{what} | {os.path.basename(str(explanation.source))}"


def overlay_image(
    explanation: Explanation,
    *,
    columns: int | None = None,
    tile: int | None = None,
    alpha: float = 0.6,
    show_frames: bool = True,
    title: bool = True,
) -> PIL.Image.Image:
    """A PIL image of the grid: per frame its tile (and the frame alone above it with ``show_frames``).

    Args:
        explanation: an `Explanation`.
        columns: tiles per row (default: all T frames in one row, at most 8).
        tile: side of each tile in pixels (default: the model input upscaled to at least 128).
        alpha: opacity of the heat map at its peak (0 to 1).
        show_frames: add the plain frame above each overlay.
        title: a line on top naming the method, class, score and video.
    """
    from PIL import Image, ImageDraw

    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    frames = explanation.frames.numpy()
    maps = explanation.maps.float().numpy()
    count, size = frames.shape[0], frames.shape[1]
    columns = min(count, 8) if columns is None else columns
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")
    side = tile or -(-128 // size) * size  # the smallest multiple of the input side that is >= 128
    rows = -(-count // columns)
    per_row = (2 if show_frames else 1) * side + _CAPTION
    top = _TITLE if title else 0
    canvas = Image.new("RGB", (columns * side, top + rows * per_row), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    # Pillow sets its resampling constants with setattr, which its own types do not declare
    resample = Image.NEAREST if side % size == 0 else Image.BILINEAR  # type: ignore[attr-defined]
    for t in range(count):
        x, y = (t % columns) * side, top + (t // columns) * per_row
        if show_frames:
            canvas.paste(Image.fromarray(frames[t]).resize((side, side), resample), (x, y))
            y += side
        canvas.paste(Image.fromarray(_blend(frames[t], maps[t], alpha)).resize((side, side), resample), (x, y))
        draw.text((x + 3, y + side + 1), _caption(explanation, t), fill=(0, 0, 0))
    if title:
        draw.text((3, 3), _title(explanation), fill=(0, 0, 0))
    return canvas


def save_overlay(
    explanation: Explanation,
    path: str | os.PathLike,
    *,
    columns: int | None = None,
    tile: int | None = None,
    alpha: float = 0.6,
    show_frames: bool = True,
    title: bool = True,
) -> Path:
    """Write `overlay_image` of ``explanation`` (the same keywords) as a PNG at ``path``, folders created; returns
    the path."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"the overlay is written as PNG: give a path ending in .png, got {str(path)!r}")
    image = overlay_image(explanation, columns=columns, tile=tile, alpha=alpha, show_frames=show_frames, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)
    return path
