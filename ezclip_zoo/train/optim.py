"""The reference optimizer and schedule: AdamW on the trainable tensors only, linear warm-up then cosine."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch.optim.lr_scheduler import LambdaLR

from .config import TrainConfig

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["build_optimizer", "WarmupCosine", "build_scheduler"]


def build_optimizer(model: EZCLIP, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW over ``model.trainable_parameters()`` (prompts and adapters; the frozen CLIP is never given to it),
    with weight decay on every one of them, as the reference applies it. With ``config.text_lr`` the text tower's
    adapters are a second parameter group at that rate (the schedule scales both groups alike)."""
    params = list(model.trainable_parameters())
    if not params:
        raise ValueError("the model has no trainable tensors")
    groups: list[dict[str, Any]] = [{"params": params}]
    text = list(model.text_tower.parameters())  # the text adapters: the text side of `trainable_parameters`
    if config.text_lr is not None and text:
        groups = [{"params": list(model.video_tower.parameters())}, {"params": text, "lr": config.text_lr}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay)


class WarmupCosine:
    """Learning-rate multiplier at optimizer step ``s`` (0-based, the step about to be taken): linear from
    ``1 / warmup`` to 1 over ``warmup`` steps, then cosine from 1 to ``min_ratio`` at ``total``."""

    def __init__(self, warmup: int, total: int, min_ratio: float = 0.0) -> None:
        if total < 1 or not 0 <= warmup <= total:
            raise ValueError(f"need 0 <= warmup <= total and total >= 1, got warmup={warmup}, total={total}")
        self.warmup, self.total, self.min_ratio = int(warmup), int(total), float(min_ratio)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return self.min_ratio + (1.0 - self.min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int) -> LambdaLR:
    """Per-optimizer-step warm-up + cosine schedule over ``config.epochs * steps_per_epoch`` steps."""
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_steps if config.warmup_steps is not None else round(config.warmup_epochs * steps_per_epoch)
    warmup = min(warmup, total)
    return LambdaLR(optimizer, WarmupCosine(warmup, total, config.min_lr / config.lr))
