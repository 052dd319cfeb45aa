"""Which contrastive loss a run trains with (`TrainConfig.loss`), why, and the backbone tensors it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP
    from .config import TrainConfig

__all__ = ["sigmoid_bias", "loss_notes"]

_REASONS = {
    "softmax": "softmax KL over the batch (the reference's loss, with which the released checkpoints were trained)",
    "sigmoid": "sigmoid over every video-text pair with the backbone's own scale and bias (its training objective: "
    "keeps its presence probabilities calibrated)",
}


def sigmoid_bias(model: EZCLIP, config: TrainConfig) -> torch.Tensor | None:
    """The frozen ``logit_bias`` the sigmoid loss adds (None for the softmax loss).

    Raises:
        ValueError: ``loss="sigmoid"`` over a backbone trained with a softmax objective (it has no bias).
    """
    if config.loss != "sigmoid":
        return None
    if model.presence_scale_bias is None:
        raise ValueError(
            f"loss='sigmoid' trains with the backbone's sigmoid scale and bias, and {model.config.backbone.name} "
            "has none (it was trained with a softmax objective): use loss='softmax'"
        )
    return model.clip.logit_bias


def loss_notes(model: EZCLIP, config: TrainConfig) -> list[str]:
    """The log lines that say which loss the run uses and why (and the better one for a SigLIP backbone)."""
    notes = [f"loss: {_REASONS[config.loss]} + {config.motion_weight:g} x motion loss"]
    if config.loss == "softmax" and model.presence_scale_bias is not None:
        notes.append(
            "this backbone was trained with a sigmoid objective: TrainConfig(loss='sigmoid') trains toward its own "
            "scale and bias, which keeps the presence probabilities calibrated"
        )
    return notes
