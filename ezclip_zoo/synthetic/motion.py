"""Procedural motion videos whose classes come in time-reversed pairs.

A clip of "moving right" played backwards is a clip of "moving left" with exactly the same distribution of
frames, so the *set* of frames says nothing about the class: only their order does. A model that averages
per-frame features (frame-mean CLIP, the paper's "base model") scores exactly chance between the two members of
a pair; telling them apart is evidence of temporal modelling.

Every clip is a function of ``(seed, index)`` alone (see `MotionClips`), so any user regenerates the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.seeding import sample_seed
from ..transforms.train import normalize_frames

__all__ = [
    "MOTION_PAIRS",
    "SHAPES",
    "STILL_CLASS",
    "MotionVideoConfig",
    "render_motion_clip",
    "render_motion_clip_with_masks",
    "MotionClips",
    "partner_label",
    "within_pair_accuracy",
]

# pair name -> (forward class, its time reversal)
MOTION_PAIRS: dict[str, tuple[str, str]] = {
    "horizontal": ("moving right", "moving left"),
    "vertical": ("moving down", "moving up"),
    "scale": ("growing", "shrinking"),
    "rotation": ("rotating clockwise", "rotating anticlockwise"),
}
SHAPES = ("square", "disk", "diamond", "triangle", "bar")
STILL_CLASS = "staying still"  # the optional no-motion class: a shape that does not move (its own time reversal)


@dataclass(frozen=True)
class MotionVideoConfig:
    """What the generated clips look like.

    Attributes:
        size: frame side in pixels.
        num_frames: frames per clip.
        pairs: motion pairs (keys of `MOTION_PAIRS`); classes are listed pair by pair, forward member first.
        shapes: shapes drawn at random (`SHAPES`).
        colour: ``"white"`` or ``"random"`` (a random bright colour per clip).
        radius: (min, max) half-size of the shape, as a fraction of ``size``, for translation and rotation.
        travel: (min, max) distance moved over the clip, as a fraction of ``size``.
        scale_radius: (small, large) radius ranges for growing/shrinking, fractions of ``size``.
        rotation: (min, max) total rotation over the clip, in degrees.
        supersample: anti-aliasing factor (shapes are rendered at ``size * supersample`` and averaged down).
        still: add `STILL_CLASS` (a shape that stays where it is) after the pairs' classes: the "no action" that
            long videos (`ezclip_zoo.synthetic.long_videos`) show between actions.
    """

    size: int = 32
    num_frames: int = 8
    pairs: tuple[str, ...] = ("horizontal", "vertical")
    shapes: tuple[str, ...] = ("square", "disk", "diamond", "triangle")
    colour: str = "white"
    radius: tuple[float, float] = (0.12, 0.2)
    travel: tuple[float, float] = (0.35, 0.5)
    scale_radius: tuple[tuple[float, float], tuple[float, float]] = ((0.06, 0.12), (0.3, 0.4))
    rotation: tuple[float, float] = (60.0, 90.0)
    supersample: int = 2
    still: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [p for p in self.pairs if p not in MOTION_PAIRS]
        if unknown or not self.pairs:
            raise ValueError(f"unknown motion pairs {unknown}; choose from {sorted(MOTION_PAIRS)}")
        bad = [s for s in self.shapes if s not in SHAPES]
        if bad or not self.shapes:
            raise ValueError(f"unknown shapes {bad}; choose from {SHAPES}")
        if self.colour not in ("white", "random"):
            raise ValueError(f"colour must be 'white' or 'random', got {self.colour!r}")
        if self.size < 8 or self.num_frames < 2:
            raise ValueError("size must be >= 8 pixels and num_frames >= 2")
        if self.radius[1] + self.travel[1] / 2 > 0.5 or self.scale_radius[1][1] > 0.5:
            raise ValueError("shape radius + half the travel (and the largest scale radius) must stay under 0.5")

    @property
    def classes(self) -> list[str]:
        """Class names, pair by pair: ``[forward_0, reversed_0, forward_1, reversed_1, ...]`` (then `STILL_CLASS`
        with ``still=True``)."""
        return [name for pair in self.pairs for name in MOTION_PAIRS[pair]] + ([STILL_CLASS] if self.still else [])

    def partner(self, label: int) -> int:
        """The class of a clip of ``label`` played backwards: its pair's other member (itself for `STILL_CLASS`)."""
        return label if label == 2 * len(self.pairs) else partner_label(label)


def partner_label(label: int) -> int:
    """The time-reversed partner of a class: 0 <-> 1, 2 <-> 3, ..."""
    return label ^ 1


def within_pair_accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Percent of clips scored strictly higher for their own class than for its time-reversed partner.

    Args:
        scores: [N, C] class scores; labels: [N] classes (partners are ``label ^ 1``).
    """
    own = scores.gather(1, labels[:, None])
    partner = scores.gather(1, (labels ^ 1)[:, None])
    return 100.0 * float((own > partner).float().mean())


def _mask(shape: str, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Coverage of a shape of half-size ``r`` in shape coordinates (u right, v down)."""
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= r
    if shape == "disk":
        return u * u + v * v <= r * r
    if shape == "diamond":
        return np.abs(u) + np.abs(v) <= r
    if shape == "bar":
        return (np.abs(u) <= r) & (np.abs(v) <= r / 3)
    if shape == "triangle":  # equilateral, pointing up, circumradius r
        inside = np.ones(np.broadcast_shapes(u.shape, r.shape), dtype=bool)
        for angle in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3, math.pi / 2 + 4 * math.pi / 3):
            inside &= -(u * math.cos(angle) + v * math.sin(angle)) <= r / 2
        return inside
    raise ValueError(f"unknown shape {shape!r}")


def render_motion_clip_with_masks(
    config: MotionVideoConfig, label: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one clip of class ``label`` with random shape, start, speed and orientation, and the shape's masks.

    The reversed member of a pair is rendered as its forward member and then played backwards, so both members
    have identical frame distributions. The same ``rng`` state gives the same frames as `render_motion_clip`.

    Returns:
        (uint8 [T, size, size, 3], white (or coloured) shape on black; bool [T, size, size], the pixels the shape
        covers at least half of).
    """
    n_classes = len(config.classes)
    if not 0 <= label < n_classes:
        raise ValueError(f"label must be in 0..{n_classes - 1}, got {label}")
    pair = config.pairs[label // 2] if label < 2 * len(config.pairs) else "still"
    size, t_count, ss = config.size, config.num_frames, config.supersample
    shape = config.shapes[rng.integers(len(config.shapes))]
    t = np.linspace(0.0, 1.0, t_count)[:, None, None]  # [T, 1, 1], 0 -> 1 over the clip
    angle = np.full_like(t, rng.uniform(0.0, 2 * math.pi))
    if pair in ("horizontal", "vertical", "rotation", "still"):
        r = np.full_like(t, rng.uniform(*config.radius) * size)
    if pair in ("horizontal", "vertical"):
        travel = rng.uniform(*config.travel) * size
        lo = r[0, 0, 0]
        start = rng.uniform(lo, size - lo - travel)
        across = rng.uniform(lo, size - lo)
        along = start + travel * t
        cx, cy = (along, np.full_like(t, across)) if pair == "horizontal" else (np.full_like(t, across), along)
    elif pair == "still":
        lo = r[0, 0, 0]
        cx = np.full_like(t, rng.uniform(lo, size - lo))
        cy = np.full_like(t, rng.uniform(lo, size - lo))
    elif pair == "scale":
        r0 = rng.uniform(*config.scale_radius[0]) * size
        r1 = rng.uniform(*config.scale_radius[1]) * size
        r = r0 + (r1 - r0) * t
        cx = np.full_like(t, rng.uniform(r1, size - r1))
        cy = np.full_like(t, rng.uniform(r1, size - r1))
    else:  # rotation: clockwise on screen (image v axis points down, so the angle grows)
        lo = r[0, 0, 0]
        cx = np.full_like(t, rng.uniform(lo, size - lo))
        cy = np.full_like(t, rng.uniform(lo, size - lo))
        angle = angle + math.radians(rng.uniform(*config.rotation)) * t
        if shape in ("square", "disk", "diamond"):  # symmetric under rotation: use an oriented bar instead
            shape = "bar"
    grid = (np.arange(size * ss) + 0.5) / ss  # pixel-centre coordinates of the supersampled grid
    x, y = grid[None, None, :], grid[None, :, None]
    dx, dy = x - cx, y - cy
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    cover = _mask(shape, u, v, r).astype(np.float32)
    cover = cover.reshape(t_count, size, ss, size, ss).mean(axis=(2, 4))  # [T, size, size] in [0, 1]
    if config.colour == "white":
        colour = np.array([255.0, 255.0, 255.0])
    else:
        colour = rng.uniform(96.0, 255.0, size=3)
    frames = np.rint(cover[..., None] * colour).astype(np.uint8)
    masks = cover >= 0.5
    if label % 2 == 1 and pair != "still":
        frames, masks = frames[::-1], masks[::-1]
    return np.ascontiguousarray(frames), np.ascontiguousarray(masks)


def render_motion_clip(config: MotionVideoConfig, label: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one clip of class ``label``: uint8 [T, size, size, 3] (see `render_motion_clip_with_masks`)."""
    return render_motion_clip_with_masks(config, label, rng)[0]


class MotionClips(Dataset):
    """A reproducible set of motion clips, ready for the model.

    Clip ``i`` (``0 <= i < num_clips``) has class ``i % num_classes`` and is drawn from ``(seed, i)`` only.
    With ``both_orders=True`` the dataset has ``2 * num_clips`` items: item ``2i`` is clip ``i`` and item
    ``2i + 1`` is clip ``i`` played backwards, labelled with the partner class, so every clip is shown in both
    orders (what the benchmark's held-out set does).

    Items: ``{"frames": float32 [T, 3, size, size] (CLIP-normalised), "label": int, "index": int}``; with
    ``normalize=False`` frames are uint8 [T, size, size, 3].
    """

    def __init__(
        self,
        num_clips: int,
        *,
        seed: int,
        config: MotionVideoConfig | None = None,
        both_orders: bool = False,
        normalize: bool = True,
    ) -> None:
        if num_clips < 1:
            raise ValueError(f"num_clips must be positive, got {num_clips}")
        self.config = config or MotionVideoConfig()
        self.num_clips = int(num_clips)
        self.seed = int(seed)
        self.both_orders = bool(both_orders)
        self.normalize = bool(normalize)
        self.classes = self.config.classes

    def __len__(self) -> int:
        return self.num_clips * (2 if self.both_orders else 1)

    def set_epoch(self, epoch: int) -> None:
        """Nothing to do: the clips are a fixed set; present for the trainer's dataset protocol."""
        pass

    def clip_label(self, clip: int) -> int:
        """The class index of generated clip ``clip`` (classes in turn)."""
        return clip % len(self.classes)

    @property
    def labels(self) -> list[int]:
        """The class index of every item, in order (a reversed clip has its partner's class)."""
        return [self._item_label(i) for i in range(len(self))]

    def _item_label(self, index: int) -> int:
        if self.both_orders:
            label = self.clip_label(index // 2)
            return self.config.partner(label) if index % 2 else label
        return self.clip_label(index)

    def clip(self, index: int) -> tuple[np.ndarray, int]:
        """uint8 [T, size, size, 3] frames and label of item ``index``."""
        frames, _, label = self.clip_with_masks(index)
        return frames, label

    def clip_with_masks(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        """uint8 [T, size, size, 3] frames, bool [T, size, size] shape masks and label of item ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        clip = index // 2 if self.both_orders else index
        label = self.clip_label(clip)
        rng = np.random.default_rng(sample_seed("motion", self.seed, clip))
        frames, masks = render_motion_clip_with_masks(self.config, label, rng)
        if self.both_orders and index % 2:
            frames, masks = np.ascontiguousarray(frames[::-1]), np.ascontiguousarray(masks[::-1])
            label = self.config.partner(label)
        return frames, masks, label

    def __getitem__(self, index: int) -> dict[str, Any]:
        frames, label = self.clip(index)
        tensor = torch.from_numpy(frames)
        if self.normalize:
            tensor = normalize_frames(tensor.permute(0, 3, 1, 2))
        return {"frames": tensor, "label": label, "index": index}
