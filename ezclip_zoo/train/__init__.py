"""Fine-tuning: the reference recipe (AdamW, warm-up + cosine, KL contrastive + motion loss), checkpoints that
resume exactly, model selection on a validation split, and DistributedDataParallel under torchrun; `finetune` runs
the whole recipe (dataset, classes, texts, model, `fit`) in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
    from .config import TrainConfig
    from .distributed import DistributedContext, gather_with_grad
    from .loop import fit
    from .optim import WarmupCosine, build_optimizer, build_scheduler
    from .recipe import finetune, training_splits
    from .state import TrainResult, TrainState, trainable_digest

__all__ = [
    "CHECKPOINT_NAME",
    "DistributedContext",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "WarmupCosine",
    "build_optimizer",
    "build_scheduler",
    "finetune",
    "fit",
    "gather_with_grad",
    "load_checkpoint",
    "save_checkpoint",
    "trainable_digest",
    "training_splits",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".checkpoint": ("CHECKPOINT_NAME", "load_checkpoint", "save_checkpoint"),
        ".config": ("TrainConfig",),
        ".distributed": ("DistributedContext", "gather_with_grad"),
        ".loop": ("fit",),
        ".optim": ("WarmupCosine", "build_optimizer", "build_scheduler"),
        ".recipe": ("finetune", "training_splits"),
        ".state": ("TrainResult", "TrainState", "trainable_digest"),
    },
)
