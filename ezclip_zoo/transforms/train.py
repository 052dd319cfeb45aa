"""Training augmentation of clips, as the EZ-CLIP reference recipe (ActionCLIP's) applies it.

Multi-scale crop (TSN's ``GroupMultiScaleCrop``: scales 1, .875, .75, .66 of the short side, aspect distortion of
at most one scale step, 13 fixed crop positions) resized to the model's input size, horizontal flip (p 0.5;
switch it off for direction-sensitive data such as Something-Something v2), colour jitter (p 0.8; brightness 0.4,
contrast 0.4, saturation 0.2, hue 0.1, in a random order), grayscale (p 0.2), CLIP mean/std. Every random choice
is drawn once per clip and applied to all its frames, so a clip is augmented consistently over time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

__all__ = ["ClipAugment", "AugmentParams", "normalize_frames"]

DEFAULT_SCALES = (1.0, 0.875, 0.75, 0.66)


@dataclass(frozen=True)
class AugmentParams:
    """The random choices for one clip: crop box (pixels), flip, colour jitter and grayscale."""

    top: int
    left: int
    height: int
    width: int
    flip: bool
    jitter: tuple[tuple[str, float], ...] | None  # (operation, factor) in application order, None = no jitter
    grayscale: bool


def normalize_frames(
    frames: torch.Tensor,
    mean: Sequence[float] = OPENAI_DATASET_MEAN,
    std: Sequence[float] = OPENAI_DATASET_STD,
) -> torch.Tensor:
    """uint8 [T, 3, H, W] -> float32 [T, 3, H, W] scaled to [0, 1] and normalised with ``mean``/``std``."""
    x = frames.to(torch.float32).div_(255.0)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return x.sub_(mean_t).div_(std_t)


def _uniform(generator: torch.Generator | None, low: float, high: float) -> float:
    return low + (high - low) * torch.rand((), generator=generator).item()


def _choice(generator: torch.Generator | None, n: int) -> int:
    return int(torch.randint(n, (), generator=generator).item())


class ClipAugment:
    """Random train-time augmentation of a clip.

    Args:
        image_size: output side S in pixels (the model's ``image_size``).
        scales: crop sides as fractions of the frame's short side.
        max_distort: largest difference between the scale indices of crop width and height.
        flip: random horizontal flip (p 0.5). Set False when left/right matters for the labels.
        jitter_p: probability of colour jitter; ``brightness``, ``contrast``, ``saturation``, ``hue`` its strengths
            (factors drawn from ``[1 - s, 1 + s]``, hue shift from ``[-hue, hue]``).
        grayscale_p: probability of converting the clip to grayscale (kept 3-channel).
        mean, std: normalisation (CLIP's by default).
    """

    def __init__(
        self,
        image_size: int,
        *,
        scales: Sequence[float] = DEFAULT_SCALES,
        max_distort: int = 1,
        flip: bool = True,
        jitter_p: float = 0.8,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.2,
        hue: float = 0.1,
        grayscale_p: float = 0.2,
        mean: Sequence[float] = OPENAI_DATASET_MEAN,
        std: Sequence[float] = OPENAI_DATASET_STD,
    ) -> None:
        if image_size < 1:
            raise ValueError(f"image_size must be positive, got {image_size}")
        if not scales or any(not 0.0 < s <= 1.0 for s in scales):
            raise ValueError(f"scales must be fractions in (0, 1], got {scales}")
        for name, p in (("jitter_p", jitter_p), ("grayscale_p", grayscale_p)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability, got {p}")
        if not 0.0 <= hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {hue}")
        self.image_size = int(image_size)
        self.scales = tuple(float(s) for s in scales)
        self.max_distort = int(max_distort)
        self.flip = bool(flip)
        self.jitter_p = float(jitter_p)
        self.strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation, "hue": hue}
        self.grayscale_p = float(grayscale_p)
        self.mean, self.std = tuple(mean), tuple(std)

    def __repr__(self) -> str:
        return (
            f"ClipAugment(image_size={self.image_size}, scales={self.scales}, flip={self.flip}, "
            f"jitter_p={self.jitter_p}, grayscale_p={self.grayscale_p})"
        )

    # ---------------------------------------------------------------- random choices
    def _crop_box(self, height: int, width: int, generator: torch.Generator | None) -> tuple[int, int, int, int]:
        base = min(height, width)
        sizes = [int(base * s) for s in self.scales]
        # sides within 3 px of the output size snap to it (saves a resize), as TSN does
        sides = [self.image_size if abs(s - self.image_size) < 3 else s for s in sizes]
        pairs = [(w, h) for i, h in enumerate(sides) for j, w in enumerate(sides) if abs(i - j) <= self.max_distort]
        crop_w, crop_h = pairs[_choice(generator, len(pairs))]
        crop_w, crop_h = max(1, min(crop_w, width)), max(1, min(crop_h, height))
        w_step, h_step = (width - crop_w) // 4, (height - crop_h) // 4
        offsets = [
            (0, 0),
            (4, 0),
            (0, 4),
            (4, 4),
            (2, 2),  # corners and centre
            (0, 2),
            (4, 2),
            (2, 4),
            (2, 0),  # edge centres
            (1, 1),
            (3, 1),
            (1, 3),
            (3, 3),  # quarter points
        ]
        ox, oy = offsets[_choice(generator, len(offsets))]
        return oy * h_step, ox * w_step, crop_h, crop_w

    def sample(self, height: int, width: int, generator: torch.Generator | None = None) -> AugmentParams:
        """Draw the random choices for a clip whose frames are ``height`` x ``width``."""
        top, left, crop_h, crop_w = self._crop_box(height, width, generator)
        flip = self.flip and torch.rand((), generator=generator).item() < 0.5
        jitter = None
        if torch.rand((), generator=generator).item() < self.jitter_p:
            order = torch.randperm(4, generator=generator).tolist()
            names = ("brightness", "contrast", "saturation", "hue")
            ops = []
            for k in order:
                name, s = names[k], self.strengths[names[k]]
                if s <= 0:
                    continue
                factor = _uniform(generator, -s, s) if name == "hue" else _uniform(generator, max(0.0, 1 - s), 1 + s)
                ops.append((name, factor))
            jitter = tuple(ops)
        grayscale = torch.rand((), generator=generator).item() < self.grayscale_p
        return AugmentParams(top, left, crop_h, crop_w, flip, jitter, grayscale)

    # ---------------------------------------------------------------- application
    def apply(self, frames: torch.Tensor, params: AugmentParams) -> torch.Tensor:
        """uint8 [T, H, W, 3] -> float32 [T, 3, S, S], normalised, with the given choices on every frame."""
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {tuple(frames.shape)}")
        rows = slice(params.top, params.top + params.height)
        cols = slice(params.left, params.left + params.width)
        x = frames.permute(0, 3, 1, 2)[..., rows, cols]
        x = TF.resize(
            x.contiguous(), [self.image_size, self.image_size], interpolation=InterpolationMode.BILINEAR, antialias=True
        )
        if params.flip:
            x = TF.horizontal_flip(x)
        for name, factor in params.jitter or ():
            x = getattr(TF, f"adjust_{name}")(x, factor)
        if params.grayscale:
            x = TF.rgb_to_grayscale(x, num_output_channels=3)
        return normalize_frames(x, self.mean, self.std)

    def __call__(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Augment one clip: uint8 [T, H, W, 3] -> float32 [T, 3, S, S]."""
        if frames.ndim != 4:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got shape {tuple(frames.shape)}")
        return self.apply(frames, self.sample(frames.shape[1], frames.shape[2], generator))
