"""Fine-tuning: the reference recipe (AdamW, warm-up + cosine, KL contrastive + motion loss), checkpoints that
resume exactly, model selection on a validation split, and DistributedDataParallel under torchrun."""

from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .distributed import DistributedContext, gather_with_grad
from .loop import TrainResult, TrainState, fit, trainable_digest
from .optim import WarmupCosine, build_optimizer, build_scheduler

__all__ = [
    "CHECKPOINT_NAME",
    "DistributedContext",
    "TrainConfig",
    "TrainResult",
    "TrainState",
    "WarmupCosine",
    "build_optimizer",
    "build_scheduler",
    "fit",
    "gather_with_grad",
    "load_checkpoint",
    "save_checkpoint",
    "trainable_digest",
]
