"""Inference preprocessing of video frames: resize, crop(s), CLIP mean/std.

Two protocols, both per frame on uint8 RGB frames:

* ``"clip"`` (default): the backbone's own open_clip preprocessing (``PreprocessCfg``: for OpenAI CLIP, resize the
  short side to the image size with bicubic interpolation, centre crop, OpenAI mean/std). For one crop the output
  equals ``open_clip.image_transform_v2(cfg, is_train=False)`` on the frame as a PIL image, bit for bit.
* ``"reference"``: the EZ-CLIP / ActionCLIP test protocol: short side to ``image_size * 256 // 224`` (256 for 224
  px models) with bilinear interpolation, then a centre crop of ``image_size``.

Multi-view testing takes ``num_crops`` = 3 crops per frame, at the start, centre and end of the frame's long side
(the usual "three crops"); the caller averages the predictions over views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from open_clip.transform import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD, PreprocessCfg, merge_preprocess_dict

from ..choices import PROTOCOLS
from .pixels import INTERPOLATIONS, RESIZE_MODES, preprocess_frame

__all__ = ["VideoTransform", "preprocess_frames", "preprocess_config"]


def _per_channel(name: str, values: Iterable[Any]) -> tuple[float, float, float]:
    """``values`` as three floats, one per RGB channel (ValueError for another count)."""
    floats = tuple(float(v) for v in values)
    if len(floats) != 3:
        raise ValueError(f"{name} must have 3 values, one per RGB channel, got {floats}")
    return floats[0], floats[1], floats[2]


def preprocess_config(model: Any) -> PreprocessCfg:
    """The open_clip ``PreprocessCfg`` of an `EZCLIP`'s backbone at the model's image size: its config's
    ``backbone.preprocess`` (what its weights were trained with, filled in when the model was built), else its open_clip
    config's ``preprocess_cfg``, else open_clip's defaults."""
    from open_clip import get_model_config, get_model_preprocess_cfg

    backbone = model.config.backbone
    if backbone.preprocess is not None:
        overrides = dict(backbone.preprocess)
    else:  # a config built by hand: its open_clip config, by name or inline (hf-hub: models have none here)
        model_cfg = backbone.model_cfg if backbone.model_cfg is not None else get_model_config(backbone.model or "")
        overrides = dict((model_cfg or {}).get("preprocess_cfg", {}) or {})
        overrides.update(get_model_preprocess_cfg(model.clip))
    overrides["size"] = model.image_size
    return PreprocessCfg(**merge_preprocess_dict(PreprocessCfg(), overrides))


@dataclass(frozen=True)
class VideoTransform:
    """Per-frame inference preprocessing.

    Attributes:
        image_size: side of the square model input, pixels.
        resize_size: short side after resizing (``resize_mode="shortest"``).
        interpolation: ``"bicubic"`` or ``"bilinear"`` (PIL's antialiased filters, as open_clip and the reference
            use them).
        mean, std: per-channel normalisation (CLIP's).
        num_crops: 1 (centre) or 3 (along the long side).
        resize_mode: open_clip's ``"shortest"`` (resize + crop), ``"longest"`` (resize + pad) or ``"squash"``; the
            last two only with one crop.
        fill_color: padding value for ``"longest"``.
    """

    image_size: int
    resize_size: int
    interpolation: str = "bicubic"
    mean: tuple[float, float, float] = tuple(OPENAI_DATASET_MEAN)
    std: tuple[float, float, float] = tuple(OPENAI_DATASET_STD)
    num_crops: int = 1
    resize_mode: str = "shortest"
    fill_color: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.image_size, int) or self.image_size < 1:
            raise ValueError(f"image_size must be a positive int, got {self.image_size!r}")
        if not isinstance(self.resize_size, int) or self.resize_size < self.image_size:
            raise ValueError(f"resize_size must be an int >= image_size ({self.image_size}), got {self.resize_size!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")
        if self.num_crops not in (1, 3):
            raise ValueError(f"num_crops must be 1 or 3, got {self.num_crops!r}")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"resize_mode must be 'shortest', 'longest' or 'squash', got {self.resize_mode!r}")
        if self.resize_mode != "shortest" and self.num_crops != 1:
            raise ValueError(f"resize_mode={self.resize_mode!r} supports one view only (num_crops=1)")

    @classmethod
    def from_model(cls, model: Any, protocol: str = "clip", num_crops: int = 1) -> VideoTransform:
        """The transform for an `EZCLIP` under a protocol (``"clip"`` or ``"reference"``, see the module doc)."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        cfg = preprocess_config(model)
        size = cfg.size if isinstance(cfg.size, int) else int(cfg.size[0])
        base = cls(
            image_size=size,
            resize_size=size,
            interpolation="bilinear" if cfg.interpolation == "bilinear" else "bicubic",
            mean=_per_channel("mean", cfg.mean),
            std=_per_channel("std", cfg.std),
            resize_mode=cfg.resize_mode,
            fill_color=int(cfg.fill_color),
        )
        return base.under_protocol(protocol, num_crops)

    @classmethod
    def for_protocol(cls, image_size: int, protocol: str = "reference", num_crops: int = 1) -> VideoTransform:
        """The transform of a protocol for an ``image_size`` model with OpenAI CLIP's preprocessing (for code that
        has no model at hand, such as a dataset built before its model)."""
        return cls(image_size=image_size, resize_size=image_size).under_protocol(protocol, num_crops)

    def under_protocol(self, protocol: str, num_crops: int = 1) -> VideoTransform:
        """This transform under a test protocol: ``"clip"`` keeps it; ``"reference"`` (EZ-CLIP/ActionCLIP) resizes
        the short side to ``image_size * 256 // 224`` with bilinear interpolation before the centre crop."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if protocol == "reference":
            return replace(
                self,
                resize_size=self.image_size * 256 // 224,
                interpolation="bilinear",
                resize_mode="shortest",
                num_crops=num_crops,
            )
        return replace(self, num_crops=num_crops)

    @property
    def num_views(self) -> int:
        """Views per frame: the number of crops (1 centre crop, or 3)."""
        return self.num_crops

    def __call__(self, frame: Any) -> torch.Tensor:
        """One frame (uint8 RGB [H, W, 3] ndarray/tensor, or a PIL image) -> float32 [num_crops, 3, S, S]."""
        if isinstance(frame, torch.Tensor):
            frame = frame.numpy()
        return torch.from_numpy(
            preprocess_frame(
                frame,
                self.image_size,
                self.resize_size,
                interpolation=self.interpolation,
                mean=self.mean,
                std=self.std,
                num_crops=self.num_crops,
                resize_mode=self.resize_mode,
                fill_color=self.fill_color,
            )
        )

    def frames(self, frames: Any) -> torch.Tensor:
        """Frames (any layout `ezclip_zoo.video.frames_to_uint8` takes) -> float32 [num_crops, T, 3, S, S]."""
        from ..video.arrays import frames_to_uint8

        data = frames_to_uint8(frames, "frames")
        return torch.stack([self(f.numpy()) for f in data], dim=1)

    def stack(self, transformed: Sequence[torch.Tensor]) -> torch.Tensor:
        """T outputs of ``__call__`` -> [num_crops, T, 3, S, S]."""
        return torch.stack(list(transformed), dim=1)


def preprocess_frames(
    frames: Any,
    image_size: int,
    *,
    resize_size: int | None = None,
    interpolation: str = "bicubic",
    mean: Sequence[float] = OPENAI_DATASET_MEAN,
    std: Sequence[float] = OPENAI_DATASET_STD,
) -> torch.Tensor:
    """Resize (short side), centre-crop and normalise frames for the model.

    Args:
        frames: uint8 RGB [T, H, W, 3] (or float in [0, 1]; other layouts as `ezclip_zoo.video.frames_to_uint8`).
        image_size: output side S (``model.image_size``).
        resize_size: short side before cropping; ``image_size`` (open_clip's eval transform) when None. Use
            ``image_size * 256 // 224`` for the reference test protocol (with ``interpolation="bilinear"``).
        interpolation: ``"bicubic"`` (CLIP) or ``"bilinear"`` (reference).
        mean, std: normalisation, CLIP's by default.

    Returns:
        float32 [T, 3, S, S].
    """
    transform = VideoTransform(
        image_size=image_size,
        resize_size=resize_size if resize_size is not None else image_size,
        interpolation=interpolation,
        mean=_per_channel("mean", mean),
        std=_per_channel("std", std),
    )
    return transform.frames(frames)[0]
