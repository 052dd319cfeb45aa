"""`TrainConfig`: every knob of a fine-tuning run, defaulting to the EZ-CLIP reference recipe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..choices import LOSSES

__all__ = ["TrainConfig", "RESUME_KEYS"]

# Fields that decide what a run computes: a resumed run must have the same values to end bit-identical.
RESUME_KEYS = (
    "epochs",
    "batch_size",
    "grad_accum_steps",
    "lr",
    "min_lr",
    "text_lr",
    "warmup_epochs",
    "warmup_steps",
    "weight_decay",
    "betas",
    "eps",
    "max_grad_norm",
    "motion_weight",
    "loss",
    "precision",
    "seed",
    "gather_features",
)


@dataclass
class TrainConfig:
    """Fine-tuning hyper-parameters.

    The defaults are the reference recipe: AdamW (betas 0.9/0.98, eps 1e-8, weight decay 0.2 on every trainable
    tensor), linear warm-up for 5 epochs then cosine decay to ``min_lr``, loss = KL contrastive + motion loss.
    The reference's zero-shot model used lr 1e-4, batch 80, 150 epochs; its base-to-novel runs lr 5e-6 to
    1e-4 (see the README).

    Attributes:
        epochs: passes over the training set.
        batch_size: clips per process per micro-batch (the contrastive batch is ``batch_size * world_size``
            with ``gather_features``).
        grad_accum_steps: micro-batches per optimizer step.
        lr, min_lr: peak and final learning rate.
        text_lr: peak learning rate of the text tower's adapters (default None: ``lr``, as the reference trains
            them). Lower it where the frozen text tower draws class names nearly alike (a random or small tower,
            near-synonymous classes): at the full rate the contrastive loss merges such names before the video
            side has learnt what tells their clips apart. Follows the same warm-up and cosine (its final rate is
            ``min_lr * text_lr / lr``); 0 freezes the text adapters.
        warmup_epochs: linear warm-up length in epochs; ``warmup_steps`` (optimizer steps) overrides it.
        weight_decay, betas, eps: AdamW.
        max_grad_norm: clip the global gradient norm of the trainable tensors to this (None: no clipping).
        motion_weight: weight of the motion loss (0 switches it off).
        loss: the contrastive loss: ``"softmax"`` (default), the reference's soft-target KL over the batch, with
            which the released checkpoints were trained; or ``"sigmoid"``, SigLIP's pairwise sigmoid loss with the
            backbone's own frozen scale and bias (SigLIP-family backbones only), which keeps the model's presence
            probabilities (`EZCLIP.presence_scale_bias`) meaningful and does not make the classes of a batch
            compete.
        precision: ``"auto"`` (bf16 autocast on a GPU that supports it, else fp32), ``"bf16"`` or ``"fp32"``.
        seed: seeds the data order, every clip's sampling and augmentation, and dropout.
        num_workers: data-loader worker processes per rank.
        eval_every_epochs: validate every this many epochs (and after the last one) when a validation set is given.
        eval_batch_size: clips per validation forward pass (default ``batch_size``).
        checkpoint_every_steps: also write the training checkpoint every this many optimizer steps (it is
            always written at the end of every epoch).
        log_every_steps: log loss, learning rate and throughput every this many steps.
        device: ``"cpu"``, ``"cuda"``... (default: the rank's GPU when there is one, else CPU).
        gather_features: under DDP, compute the contrastive and motion losses over the clips of all ranks, as
            the reference's single-process batch does (gradients flow back to every rank).
        grad_checkpointing: recompute each transformer block in backward instead of storing its activations
            (B/16, 4 clips: 72% less training memory, 46% more time per step); same gradients.
    """

    epochs: int = 10
    batch_size: int = 8
    grad_accum_steps: int = 1
    lr: float = 1e-4
    min_lr: float = 0.0
    text_lr: float | None = None
    warmup_epochs: float = 5.0
    warmup_steps: int | None = None
    weight_decay: float = 0.2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    max_grad_norm: float | None = None
    motion_weight: float = 1.0
    loss: str = "softmax"
    precision: str = "auto"
    seed: int = 0
    num_workers: int = 0
    eval_every_epochs: int = 1
    eval_batch_size: int | None = None
    checkpoint_every_steps: int | None = None
    log_every_steps: int = 10
    device: str | None = None
    gather_features: bool = True
    grad_checkpointing: bool = False

    def __post_init__(self) -> None:
        betas = tuple(float(b) for b in self.betas)  # any length until checked below
        if len(betas) == 2:
            self.betas = (betas[0], betas[1])
        positive = ("epochs", "batch_size", "grad_accum_steps", "eval_every_epochs", "log_every_steps")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.lr > 0 or self.min_lr < 0 or self.min_lr > self.lr:
            raise ValueError(f"need lr > 0 and 0 <= min_lr <= lr, got lr={self.lr}, min_lr={self.min_lr}")
        if self.text_lr is not None and not self.text_lr >= 0:
            raise ValueError(f"text_lr must be >= 0 or None (the same as lr), got {self.text_lr}")
        if self.warmup_epochs < 0 or (self.warmup_steps is not None and self.warmup_steps < 0):
            raise ValueError("warm-up length must be >= 0")
        if self.weight_decay < 0 or self.eps <= 0 or len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"bad AdamW settings: weight_decay={self.weight_decay}, betas={betas}, eps={self.eps}")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be positive or None, got {self.max_grad_norm}")
        if self.motion_weight < 0:
            raise ValueError(f"motion_weight must be >= 0, got {self.motion_weight}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {self.precision!r}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.checkpoint_every_steps is not None and self.checkpoint_every_steps < 1:
            raise ValueError("checkpoint_every_steps must be positive or None")

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (``betas`` as a list); `from_dict` reads it back."""
        out = asdict(self)
        out["betas"] = list(self.betas)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """The settings `to_dict` wrote; an unknown key is a ``ValueError`` listing the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(known)}")
        return cls(**data)
