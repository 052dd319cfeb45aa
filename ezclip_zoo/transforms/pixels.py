"""Test-time frame preprocessing with PIL and numpy only: resize, crop(s), normalise.

The one implementation behind `ezclip_zoo.transforms.VideoTransform` (which wraps the result in a tensor) and the
torch-free `ezclip_zoo.runtime` (which feeds it to ONNX Runtime). The resizes are PIL's antialiased filters with
the output sizes torchvision and open_clip compute, so for one crop the result equals
``open_clip.image_transform_v2(cfg, is_train=False)`` bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["crop_offsets", "resize_frame", "normalise_views", "preprocess_frame", "INTERPOLATIONS", "RESIZE_MODES"]

INTERPOLATIONS = ("bicubic", "bilinear")
RESIZE_MODES = ("shortest", "longest", "squash")


def crop_offsets(height: int, width: int, size: int, num_crops: int) -> list[tuple[int, int]]:
    """(top, left) of ``num_crops`` (1 or 3) ``size`` x ``size`` crops: the centre crop (torchvision's rounding),
    or start / centre / end along the long side."""
    if height < size or width < size:
        raise ValueError(f"a {height}x{width} frame is smaller than the {size}x{size} crop")
    top, left = int(round((height - size) / 2.0)), int(round((width - size) / 2.0))
    if num_crops == 1:
        return [(top, left)]
    if num_crops != 3:
        raise ValueError(f"num_crops must be 1 or 3, got {num_crops}")
    if width >= height:
        return [(top, 0), (top, left), (top, width - size)]
    return [(0, left), (top, left), (height - size, left)]


def _pil_resize(image: Any, height: int, width: int, interpolation: str) -> Any:
    from PIL import Image

    if image.size == (width, height):
        return image  # torchvision returns the image untouched when it already has the size
    # Pillow sets its resampling constants with setattr, which its own types do not declare
    mode = Image.BICUBIC if interpolation == "bicubic" else Image.BILINEAR  # type: ignore[attr-defined]
    return image.resize((width, height), mode)


def resize_frame(
    image: Any,
    image_size: int,
    resize_size: int,
    interpolation: str = "bicubic",
    resize_mode: str = "shortest",
    fill_color: int = 0,
) -> np.ndarray:
    """Resize one PIL RGB image -> uint8 [h, w, 3].

    Args:
        image: a PIL image in RGB mode.
        image_size: the model's input side S.
        resize_size: the short side after ``"shortest"`` resizing (torchvision's rule: the long side is
            ``int(resize_size * long / short)``).
        interpolation: ``"bicubic"`` or ``"bilinear"``.
        resize_mode: ``"shortest"`` (short side to ``resize_size``; crop later), ``"squash"`` (to S x S) or
            ``"longest"`` (long side to S keeping the ratio, then padded with ``fill_color`` to S x S, centred).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    width, height = image.size
    if resize_mode == "shortest":
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = resize_size, int(resize_size * long / short)
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        return np.asarray(_pil_resize(image, new_h, new_w, interpolation))
    if resize_mode == "squash":
        return np.asarray(_pil_resize(image, image_size, image_size, interpolation))
    if resize_mode != "longest":
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}")
    ratio = max(height / image_size, width / image_size)  # open_clip's ResizeKeepRatio(longest=1)
    new_h, new_w = round(height / ratio), round(width / ratio)
    pixels = np.asarray(_pil_resize(image, new_h, new_w, interpolation))
    pad_h, pad_w = max(0, image_size - new_h), max(0, image_size - new_w)  # open_clip's CenterCropOrPad
    if pad_h or pad_w:
        pixels = np.pad(
            pixels, ((pad_h // 2, (pad_h + 1) // 2), (pad_w // 2, (pad_w + 1) // 2), (0, 0)), constant_values=fill_color
        )
    return pixels


def normalise_views(
    pixels: np.ndarray, size: int, num_crops: int, mean: Sequence[float], std: Sequence[float]
) -> np.ndarray:
    """uint8 [h, w, 3] -> float32 [num_crops, 3, size, size]: crops, then ``(x / 255 - mean) / std``.

    numpy float32 arithmetic, rounded exactly like torchvision's ToTensor + Normalize (bit-identical).
    """
    offsets = crop_offsets(pixels.shape[0], pixels.shape[1], size, num_crops)
    views = np.stack([pixels[top : top + size, left : left + size] for top, left in offsets]).transpose(0, 3, 1, 2)
    x = views.astype(np.float32) / np.float32(255)
    x -= np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
    x /= np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
    return x


def preprocess_frame(
    frame: Any,
    image_size: int,
    resize_size: int,
    *,
    interpolation: str = "bicubic",
    mean: Sequence[float],
    std: Sequence[float],
    num_crops: int = 1,
    resize_mode: str = "shortest",
    fill_color: int = 0,
) -> np.ndarray:
    """One frame (uint8 RGB [H, W, 3] array, or a PIL image) -> float32 [num_crops, 3, S, S] (see `resize_frame`
    and `normalise_views`)."""
    from PIL import Image

    if isinstance(frame, Image.Image):
        image = frame.convert("RGB")
    else:
        array = np.asarray(frame)
        if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(f"a frame must be uint8 RGB [H, W, 3], got {array.dtype} {array.shape}")
        image = Image.fromarray(array)
    pixels = resize_frame(image, image_size, resize_size, interpolation, resize_mode, fill_color)
    return normalise_views(pixels, image_size, num_crops, mean, std)
