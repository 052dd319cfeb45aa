"""Small videos with known content for the video/classify tests: frame ``i`` shows ``i`` in binary.

Each of ``BITS`` columns of the top half is bright (bit set) or dark; the bottom half is a colour gradient so that
frames are not flat. The pattern survives lossy H.264 coding, so a decoded frame tells which frame it is.
"""

from __future__ import annotations

import numpy as np

from ezclip_zoo.video import write_video

BITS = 10  # frame indices up to 1023


def index_frame(i: int, height: int = 48, width: int = 160) -> np.ndarray:
    """uint8 RGB [height, width, 3] showing ``i``."""
    img = np.zeros((height, width, 3), np.uint8)
    img[height // 2 :, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    img[height // 2 :, :, 2] = 90
    col = width // BITS
    for b in range(BITS):
        img[: height // 2, b * col : (b + 1) * col] = 235 if (i >> b) & 1 else 20
    return img


def read_index(frame) -> int:
    """The index shown by a decoded frame ([H, W, 3], uint8 array or tensor)."""
    img = np.asarray(frame)
    height, width = img.shape[:2]
    col = width // BITS
    top = img[: height // 2].astype(np.float32)
    return sum(1 << b for b in range(BITS) if top[:, b * col : (b + 1) * col].mean() > 128)


def index_frames(n: int, height: int = 48, width: int = 160) -> np.ndarray:
    return np.stack([index_frame(i, height, width) for i in range(n)])


def make_video(path, n: int, height: int = 48, width: int = 160, **kwargs) -> str:
    """Write an ``n``-frame index video to ``path`` (kwargs go to `write_video`); returns the path as str."""
    write_video(path, index_frames(n, height, width), **kwargs)
    return str(path)
