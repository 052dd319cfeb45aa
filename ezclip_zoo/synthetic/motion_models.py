"""Train a tiny motion model on generated clips in well under a minute: the trained model that localisation and
retrieval tests and benchmarks measure against known truth (a random frozen CLIP, so only what EZ-CLIP learns on
top of it can tell the classes apart)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP
    from .long_videos import WindowClips
    from .motion import MotionClips

__all__ = ["train_motion_model"]


def train_motion_model(
    train_set: MotionClips | WindowClips,
    *,
    seed: int = 0,
    temporal_prompts: bool = True,
    batch_size: int = 32,
    lr: float = 3e-3,
    architecture: str = "ezclip-demo-motion",
    precision: str = "fp32",
    **overrides: Any,
) -> EZCLIP:
    """An EZ-CLIP (or, with ``temporal_prompts=False``, the paper's base model without the motion loss) trained for
    one epoch over ``train_set`` (`MotionClips`, `WindowClips`: items with ``frames`` [T, 3, S, S] and ``label``,
    and ``classes``), in eval mode.

    Deterministic for a given ``seed`` and thread count: the frozen random CLIP and the adapters come from it.
    About 40 s for 500 steps (16,000 clips) of the 32 px ``ezclip-demo-motion`` on one CPU thread.
    """
    from ..train import TrainConfig, fit
    from ..zoo.factory import create_model

    torch.manual_seed(seed)
    num_frames = int(train_set[0]["frames"].shape[0])
    model = create_model(
        architecture, pretrained_backbone=False, num_frames=num_frames, temporal_prompts=temporal_prompts, **overrides
    )
    steps = len(train_set) // batch_size
    train_config = TrainConfig(
        epochs=1,
        batch_size=batch_size,
        lr=lr,
        warmup_steps=max(1, steps // 10),
        motion_weight=1.0 if temporal_prompts else 0.0,
        seed=seed,
        precision=precision,
        log_every_steps=10**9,
    )
    fit(model, train_set, train_config, class_texts=[[name] for name in train_set.classes])
    return model.eval()
