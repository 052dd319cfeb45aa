"""Display orientation as players apply it: the full display matrix (a rotation by quarter turns and a mirror), not
its rotation alone.

A video's display matrix (MP4/MOV ``tkhd`` box, FFmpeg's ``DISPLAYMATRIX`` side data) ``[a b u; c d v; x y w]`` maps
a stored pixel ``(x, y)`` (y downwards) to the displayed one ``(a x + c y, b x + d y)`` (plus a translation). Its
2x2 part is, for every real file, one of the eight signed permutations: four rotations, each with or without a
mirror. It is kept here as ``(rotation, mirror)``: the displayed frame is the stored one mirrored left-right when
``mirror`` is set, then rotated ``rotation`` degrees counter-clockwise, which is what FFmpeg's own ``ffmpeg`` and
``ffplay`` show (their ``transpose``/``hflip``/``vflip`` choices). A matrix that is not a quarter-turn (a sheared or
arbitrary angle) is rounded to the nearest one; a degenerate (singular) matrix is ignored, as players ignore it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Orientation", "IDENTITY", "orientation_from_matrix", "frame_orientation", "orient"]

Orientation = tuple[int, bool]  # (degrees counter-clockwise in {0, 90, 180, 270}, mirrored left-right first)
IDENTITY: Orientation = (0, False)
_PROBE = np.arange(6).reshape(2, 3)  # an image whose eight orientations all differ


def orient(image: np.ndarray, orientation: Orientation) -> np.ndarray:
    """``image`` ([H, W, ...]) as displayed: mirrored left-right if asked, then rotated counter-clockwise."""
    rotation, mirror = orientation
    out = image[:, ::-1] if mirror else image
    k = (rotation // 90) % 4
    if k:
        out = np.rot90(out, k)
    return np.ascontiguousarray(out) if (k or mirror) else out


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _mapped(a: int, b: int, c: int, d: int) -> np.ndarray:
    """The probe image displayed through the point map (x, y) -> (a x + c y, b x + d y)."""
    h, w = _PROBE.shape
    ys, xs = np.mgrid[0:h, 0:w]
    nx, ny = a * xs + c * ys, b * xs + d * ys
    nx, ny = nx - nx.min(), ny - ny.min()
    out = np.empty((ny.max() + 1, nx.max() + 1), _PROBE.dtype)
    out[ny, nx] = _PROBE
    return out


def orientation_from_matrix(matrix: Sequence[float] | None) -> Orientation:
    """``(rotation, mirror)`` of a 3x3 display matrix given row-major as 9 numbers (only the 2x2 part is used;
    any fixed-point scale); ``(0, False)`` for None or a degenerate matrix."""
    if matrix is None or len(matrix) < 5:
        return IDENTITY
    m0, m1, m3, m4 = (float(matrix[i]) for i in (0, 1, 3, 4))
    if abs(m0) + abs(m4) >= abs(m1) + abs(m3):  # axis-aligned: x stays x
        a, b, c, d = _sign(m0), 0, 0, _sign(m4)
    else:  # a quarter turn: x becomes y
        a, b, c, d = 0, _sign(m1), _sign(m3), 0
    if a * d - b * c == 0:
        return IDENTITY
    shown = _mapped(a, b, c, d)
    for mirror in (False, True):
        for rotation in (0, 90, 180, 270):
            if np.array_equal(orient(_PROBE, (rotation, mirror)), shown):
                return rotation, mirror
    raise AssertionError("unreachable: every signed permutation is one of the eight orientations")


def frame_orientation(frame: Any) -> Orientation:
    """The orientation a decoded PyAV frame's ``DISPLAYMATRIX`` side data asks for (identity without one)."""
    try:
        for side in frame.side_data:
            if "DISPLAYMATRIX" in str(getattr(side, "type", "")):
                raw = bytes(side)
                if len(raw) >= 36:
                    return orientation_from_matrix(struct.unpack("=9i", raw[:36]))
    except (AttributeError, TypeError, ValueError):  # PyAV without side-data access: its rotation alone
        pass
    return (int(round(getattr(frame, "rotation", 0) or 0)) // 90 * 90) % 360, False
