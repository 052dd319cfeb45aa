"""Long videos with known truth: stretches where nothing moves, then actions of known start and end.

A video alternates background (`STILL_CLASS`: a shape standing still, with a cut to another shape halfway) with
segments of one motion class each: a shape crossing the frame at one speed for the whole segment, so every window
inside a segment shows the same motion, and (as for the clips of `motion`) a leftward segment is a rightward one
played backwards. `WindowClips` draws training clips of what a window inside a segment or a background sees. The
number, order, classes and lengths of the segments come from the seed alone (`sample_seed`), so anyone regenerates
the same video and truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.seeding import sample_seed
from ..transforms.train import normalize_frames
from ..video.frame_indices import sample_frame_indices
from .motion import MOTION_PAIRS, STILL_CLASS, MotionVideoConfig, _mask

__all__ = [
    "LongVideoConfig",
    "TruthSegment",
    "LongVideo",
    "WindowClips",
    "render_long_video",
    "render_stretch",
    "frame_labels",
]

TRANSLATIONS = ("horizontal", "vertical")  # the pairs a conveyor can show


@dataclass(frozen=True)
class LongVideoConfig:
    """What a generated long video looks like.

    Attributes:
        clip: the motion clips' look (size, pairs, shapes...); its classes are the actions.
        fps: frames per second.
        clip_frames: frames of one repetition of an action (one window's worth).
        num_segments: (min, max) actions per video; 0 gives a background-only video.
        segment_s: (min, max) action length, seconds.
        gap_s: (min, max) background stretch before each action and at the end, seconds.

    A shape moves ``clip.travel`` (a fraction of the frame) per ``clip_frames`` frames, as in one motion clip.
    """

    clip: MotionVideoConfig = field(default_factory=lambda: MotionVideoConfig(pairs=TRANSLATIONS, still=True))
    fps: float = 8.0
    clip_frames: int = 16
    num_segments: tuple[int, int] = (2, 4)
    segment_s: tuple[float, float] = (2.5, 4.0)
    gap_s: tuple[float, float] = (2.0, 5.0)

    def __post_init__(self) -> None:
        bad = [p for p in self.clip.pairs if p not in TRANSLATIONS]
        if bad:
            raise ValueError(f"long videos show translations only (pairs {TRANSLATIONS}), got {bad}")
        if self.fps <= 0 or self.clip_frames < 2:
            raise ValueError("fps must be positive and clip_frames >= 2")
        if not 0 <= self.num_segments[0] <= self.num_segments[1]:
            raise ValueError(f"num_segments must be (min, max) with 0 <= min <= max, got {self.num_segments}")
        if not 0 < self.segment_s[0] <= self.segment_s[1] or not 0 < self.gap_s[0] <= self.gap_s[1]:
            raise ValueError("segment_s and gap_s must be (min, max) positive seconds")

    @property
    def actions(self) -> list[str]:
        """The action classes (the clip config's translation classes, without `STILL_CLASS`)."""
        return [name for pair in self.clip.pairs for name in MOTION_PAIRS[pair]]

    @property
    def classes(self) -> list[str]:
        """The actions, then `STILL_CLASS` (what a model trained on `WindowClips` knows)."""
        return self.actions + [STILL_CLASS]


@dataclass(frozen=True)
class TruthSegment:
    """A true action: ``label`` over frames ``[start_frame, end_frame)``, i.e. ``[start, end)`` seconds."""

    label: str
    start_frame: int
    end_frame: int
    fps: float

    @property
    def start(self) -> float:
        """The first frame's time in seconds."""
        return self.start_frame / self.fps

    @property
    def end(self) -> float:
        """The end in seconds (exclusive: the time of the first frame after the action)."""
        return self.end_frame / self.fps


@dataclass(frozen=True)
class LongVideo:
    """Frames uint8 [N, size, size, 3] at ``fps``, and the truth."""

    frames: np.ndarray
    fps: float
    segments: tuple[TruthSegment, ...]

    @property
    def duration(self) -> float:
        """The video's length in seconds (frames / fps)."""
        return self.frames.shape[0] / self.fps


@dataclass(frozen=True)
class _Shape:
    kind: str
    r: float  # half-size, pixels
    angle: float  # radians
    across: float  # pixels, the coordinate that does not change


def _new_shape(config: LongVideoConfig, rng: np.random.Generator) -> _Shape:
    size = config.clip.size
    r = rng.uniform(*config.clip.radius) * size
    return _Shape(
        config.clip.shapes[rng.integers(len(config.clip.shapes))],
        r,
        rng.uniform(0.0, 2 * np.pi),
        rng.uniform(r, size - r),
    )


def _draw(config: LongVideoConfig, shape: _Shape, along: np.ndarray, vertical: bool) -> np.ndarray:
    """uint8 [n, size, size, 3]: ``shape`` at ``along[i]`` (pixels) on the motion axis in frame i."""
    size, ss = config.clip.size, config.clip.supersample
    along = np.asarray(along, dtype=np.float64)[:, None, None]
    across = np.full_like(along, shape.across)
    cx, cy = (across, along) if vertical else (along, across)
    grid = (np.arange(size * ss) + 0.5) / ss
    dx, dy = grid[None, None, :] - cx, grid[None, :, None] - cy
    u = np.cos(shape.angle) * dx + np.sin(shape.angle) * dy
    v = -np.sin(shape.angle) * dx + np.cos(shape.angle) * dy
    cover = _mask(shape.kind, u, v, np.full((1, 1, 1), shape.r)).astype(np.float32)
    cover = cover.reshape(len(along), size, ss, size, ss).mean(axis=(2, 4))
    return np.rint(cover[..., None] * np.array([255.0, 255.0, 255.0])).astype(np.uint8)


def _motion(config: LongVideoConfig, label: int, count: int, rng: np.random.Generator) -> tuple[_Shape, np.ndarray]:
    """A shape and its positions over ``count`` frames of action ``label``: ``clip.travel`` of the frame per
    ``clip_frames`` frames (as a motion clip moves), slowed where needed to stay inside the frame. The backward
    member of a pair is the forward motion reversed, so both have the same distribution."""
    shape, size = _new_shape(config, rng), config.clip.size
    room = size - 2 * shape.r
    speed = rng.uniform(*config.clip.travel) * size / (config.clip_frames - 1)  # pixels per frame
    speed = min(speed, room / max(count - 1, 1))
    start = shape.r + rng.uniform(0.0, max(0.0, room - speed * (count - 1)))
    along = start + speed * np.arange(count, dtype=np.float64)
    return shape, (along[::-1] if label % 2 else along)


def _still_shape(config: LongVideoConfig, rng: np.random.Generator) -> tuple[_Shape, float]:
    """A background shape and where it stands (pixels, along the horizontal axis)."""
    shape = _new_shape(config, rng)
    return shape, float(rng.uniform(shape.r, config.clip.size - shape.r))


def _still(config: LongVideoConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """A background stretch: a shape standing still (placed anywhere)."""
    shape, at = _still_shape(config, rng)
    return _draw(config, shape, np.full(count, at), False)


def render_stretch(config: LongVideoConfig, label: int | None, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` frames uint8 [count, size, size, 3] of action ``label`` (an index into ``config.actions``; None:
    background, a shape standing still)."""
    if label is None:
        return _still(config, count, rng)
    shape, along = _motion(config, label, count, rng)
    return _draw(config, shape, along, config.clip.pairs[label // 2] == "vertical")


def render_long_video(config: LongVideoConfig, seed: int, *, num_segments: int | None = None) -> LongVideo:
    """Generate long video ``seed``: background, action, background, ..., background.

    An action's shape stands at its starting point before the action and stays where it stopped afterwards (as a
    person stands, walks, stands); halfway through each background stretch the scene cuts to the next action's
    shape. The truth is the frames where the shape moves.

    Args:
        config: `LongVideoConfig`.
        seed: everything random comes from it.
        num_segments: override the drawn number of actions (0: a background-only video of one gap's length).
    """
    rng = np.random.default_rng(sample_seed("long-video", seed, 0))
    count = (
        int(rng.integers(config.num_segments[0], config.num_segments[1] + 1))
        if num_segments is None
        else int(num_segments)
    )
    actions, fps = config.actions, config.fps
    parts, truth, at = [], [], 0
    previous: tuple[_Shape, float, bool] | None = None  # the last action's shape, where it stopped, its axis
    for _ in range(count):
        gap = max(2, round(rng.uniform(*config.gap_s) * fps))
        label = int(rng.integers(len(actions)))
        length = max(2, round(rng.uniform(*config.segment_s) * fps))
        shape, along = _motion(config, label, length, rng)
        vertical = config.clip.pairs[label // 2] == "vertical"
        first_half = gap // 2
        if previous is None:
            parts.append(_still(config, first_half, rng))
        else:
            parts.append(_draw(config, previous[0], np.full(first_half, previous[1]), previous[2]))
        parts.append(_draw(config, shape, np.full(gap - first_half, along[0]), vertical))
        parts.append(_draw(config, shape, along, vertical))
        truth.append(TruthSegment(actions[label], at + gap, at + gap + length, fps))
        at += gap + length
        previous = (shape, float(along[-1]), vertical)
    tail = max(2, round(rng.uniform(*config.gap_s) * fps))
    if previous is None:
        parts.append(_still(config, tail, rng))
    else:
        parts.append(_draw(config, previous[0], np.full(tail, previous[1]), previous[2]))
    return LongVideo(frames=np.ascontiguousarray(np.concatenate(parts)), fps=fps, segments=tuple(truth))


def frame_labels(video: LongVideo) -> list[str | None]:
    """The true action of every frame (None on background)."""
    labels: list[str | None] = [None] * video.frames.shape[0]
    for s in video.segments:
        labels[s.start_frame : s.end_frame] = [s.label] * (s.end_frame - s.start_frame)
    return labels


class WindowClips(Dataset):
    """Training clips of what a window of a long video shows: item ``i`` has class ``i % C`` over
    ``config.classes`` (actions, then `STILL_CLASS`): a stretch as long as a segment, from ``(seed, i)``, of which
    a random window of ``clip_frames`` frames is TSN-sampled to ``num_frames`` as `localize` samples a window.

    Items: ``{"frames": float32 [T, 3, size, size] (CLIP-normalised), "label": int, "index": int}``.
    """

    def __init__(
        self, num_clips: int, *, seed: int, config: LongVideoConfig | None = None, num_frames: int = 8
    ) -> None:
        if num_clips < 1:
            raise ValueError(f"num_clips must be positive, got {num_clips}")
        self.config = config or LongVideoConfig()
        self.num_clips, self.seed, self.num_frames = int(num_clips), int(seed), int(num_frames)
        self.classes = self.config.classes

    def __len__(self) -> int:
        return self.num_clips

    def set_epoch(self, epoch: int) -> None:
        """Nothing to do: the clips are a fixed set; present for the trainer's dataset protocol."""
        pass

    @property
    def labels(self) -> list[int]:
        """The class index of every clip, in order."""
        return [i % len(self.classes) for i in range(self.num_clips)]

    def clip(self, index: int) -> tuple[np.ndarray, int]:
        """uint8 [T, size, size, 3] frames and label of item ``index``."""
        if not 0 <= index < self.num_clips:
            raise IndexError(index)
        label = index % len(self.classes)
        rng = np.random.default_rng(sample_seed("conveyor", self.seed, index))
        cfg = self.config
        length = max(cfg.clip_frames, round(rng.uniform(*cfg.segment_s) * cfg.fps))
        # Only the sampled frames of the window are drawn (a third of the stretch): each frame is drawn from the
        # shape and its position alone, so these are the frames of the whole stretch, with the draws in its order.
        offsets = np.asarray(sample_frame_indices(cfg.clip_frames, self.num_frames, mode="test"))
        if label == len(self.classes) - 1:  # background, half the time with a cut to another still shape
            cut = int(rng.integers(1, length)) if rng.random() < 0.5 else length
            stills = [_still_shape(cfg, rng)] + ([_still_shape(cfg, rng)] if cut < length else [])
            picks = int(rng.integers(length - cfg.clip_frames + 1)) + offsets
            parts = [(stills[0], picks[picks < cut]), (stills[-1], picks[picks >= cut])]
            frames = np.concatenate([_draw(cfg, s, np.full(len(p), at), False) for (s, at), p in parts if len(p)])
        else:
            shape, along = _motion(cfg, label, length, rng)
            picks = int(rng.integers(length - cfg.clip_frames + 1)) + offsets
            frames = _draw(cfg, shape, along[picks], cfg.clip.pairs[label // 2] == "vertical")
        return frames, label

    def __getitem__(self, index: int) -> dict[str, Any]:
        frames, label = self.clip(index)
        tensor = normalize_frames(torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2))
        return {"frames": tensor, "label": label, "index": index}
