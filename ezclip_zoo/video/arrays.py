"""Frames already in memory (PIL images, numpy arrays, tensors) to one layout: uint8 RGB [N, H, W, 3].

Accepted layouts:

* a list/tuple of PIL images (any mode: L, RGBA, P, ... are converted to RGB), or a single PIL image;
* an array/tensor [N, H, W, C] with C = 3 (RGB), 4 (RGBA: alpha dropped), 1 (gray);
* a tensor [N, C, H, W] with C in (1, 3, 4) when that reading is unambiguous (the torch/torchvision layout);
* an array/tensor [N, H, W]: grayscale frames;
* uint8 values 0..255, other integer dtypes (uint16/32, int64...) holding 0..255 only, or floating values in [0, 1]
  (rounded to uint8, as image files store them); bool, complex and non-numeric dtypes are refused (TypeError).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["is_frame_sequence", "frames_to_uint8", "is_pil_image"]

_CHANNELS = (1, 3, 4)


def is_pil_image(obj: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        return False
    return isinstance(obj, Image.Image)


def is_frame_sequence(obj: Any) -> bool:
    """True for in-memory frames (array, tensor, PIL image or a non-empty list of PIL images)."""
    if isinstance(obj, (np.ndarray, torch.Tensor)) or is_pil_image(obj):
        return True
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(is_pil_image(x) for x in obj)


def _pil_to_uint8(images: Sequence[Any], what: str) -> torch.Tensor:
    arrays = [np.asarray(img.convert("RGB")) for img in images]
    sizes = sorted({a.shape[:2] for a in arrays})
    if len(sizes) > 1:
        raise ValueError(f"{what}: the PIL images have different sizes {sizes[:4]}; all frames of a video must match")
    return torch.from_numpy(np.stack(arrays))


def frames_to_uint8(frames: Any, what: str = "frames") -> torch.Tensor:
    """Convert in-memory frames to a contiguous uint8 RGB tensor [N, H, W, 3] (see the module docstring).

    Args:
        frames: the frames.
        what: how to name them in error messages.

    Raises:
        TypeError: the frames' type or dtype is not accepted; the message names the accepted ones.
        ValueError: the layout or value range is not one of the accepted ones; the message says which and how
            to fix it.
    """
    if is_pil_image(frames):
        return _pil_to_uint8([frames], what)
    if isinstance(frames, (list, tuple)):
        if not frames:
            raise ValueError(f"{what} is an empty list; a video needs at least one frame")
        if not all(is_pil_image(x) for x in frames):
            kinds = sorted({type(x).__name__ for x in frames})
            raise TypeError(f"{what}: a list of frames must hold PIL images only, got {kinds}")
        return _pil_to_uint8(frames, what)
    if isinstance(frames, np.ndarray):
        if frames.dtype.kind not in "uifb":
            raise TypeError(f"{what}: arrays of dtype {frames.dtype} are not frames; accepted dtypes: {_ACCEPTED}")
        if frames.dtype.kind in "ui" and frames.dtype != np.uint8:  # range-checked in numpy: torch lacks uint16 ops
            frames = _integers_to_uint8(frames, what)
        elif frames.dtype.kind == "f" and frames.dtype.itemsize > 8:  # long double: torch has no such dtype
            frames = frames.astype(np.float64)
        x = torch.from_numpy(np.ascontiguousarray(frames))
    elif isinstance(frames, torch.Tensor):
        x = frames.detach().cpu()
    else:
        raise TypeError(
            f"{what}: expected a video path, bytes, a file object, a list of PIL images, a numpy array or a tensor; "
            f"got {type(frames).__name__}"
        )
    x = _to_nhwc(x, what)
    return _to_uint8(x, what).contiguous()


def _to_nhwc(x: torch.Tensor, what: str) -> torch.Tensor:
    shape = tuple(x.shape)
    if x.ndim == 3:
        if shape[-1] in (3, 4):
            raise ValueError(
                f"{what} has shape {shape}: ambiguous between grayscale frames [N, H, W] and one colour image "
                "[H, W, C]; pass one image as [1, H, W, C] or grayscale frames as [N, H, W, 1]"
            )
        x = x.unsqueeze(-1)
    elif x.ndim != 4:
        raise ValueError(f"{what} must be [N, H, W, 3] (or [N, 3, H, W], [N, H, W]), got shape {shape}")
    if x.shape[-1] not in _CHANNELS:
        if x.shape[1] in _CHANNELS:
            x = x.permute(0, 2, 3, 1)  # [N, C, H, W] -> [N, H, W, C]
        else:
            raise ValueError(
                f"{what} has shape {shape}: no channel axis of size 1, 3 or 4 at position -1 ([N, H, W, C]) or 1 "
                "([N, C, H, W])"
            )
    n, h, w, c = x.shape
    if n == 0 or h == 0 or w == 0:
        raise ValueError(f"{what} has shape {shape}: no pixels")
    if c == 1:
        x = x.expand(n, h, w, 3)
    elif c == 4:
        x = x[..., :3]  # drop alpha: video models see opaque frames
    return x


_ACCEPTED = "uint8 (0..255), other integers holding 0..255, float16/32/64 or bfloat16 in [0, 1]"


def _integers_to_uint8(a: np.ndarray, what: str) -> np.ndarray:
    """Integer frames other than uint8: accepted when they hold 0..255 only, so that 16-bit images never wrap."""
    if a.size:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{what} of dtype {a.dtype} must hold values in 0..255, got [{lo}, {hi}]; scale them to 0..255 and "
                "convert to uint8 first (e.g. 16-bit images: (x >> 8).astype(np.uint8))"
            )
    return a.astype(np.uint8)


def _to_uint8(x: torch.Tensor, what: str) -> torch.Tensor:
    if x.dtype == torch.uint8:
        return x
    if x.is_complex():
        raise TypeError(f"{what} has dtype {x.dtype}; accepted dtypes: {_ACCEPTED}")
    if x.dtype == torch.bool:
        raise TypeError(f"{what} is a bool array; pass uint8 (0..255) or float (0..1) pixels")
    if x.is_floating_point():
        if x.numel():
            lo, hi = float(x.min()), float(x.max())
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError(f"{what} contains NaN or infinite values")
            if lo < -1e-3 or hi > 1.0 + 1e-3:
                raise ValueError(
                    f"float {what} must hold values in [0, 1], got [{lo:.3g}, {hi:.3g}]; "
                    "divide 0..255 values by 255 or pass them as uint8"
                )
        return (x.float().clamp(0, 1) * 255).round().to(torch.uint8)
    # other integer types (uint16/32/64 included, whose min/max torch lacks): 0..255 only, never wrapped
    return torch.from_numpy(_integers_to_uint8(x.numpy(), what))
