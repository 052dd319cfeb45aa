"""What a run writes: its model as a zoo folder with the training recorded in the model card, and reading one back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .config import TrainConfig
from .state import TrainState

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["save_zoo_folder", "load_zoo_weights", "training_card"]


def save_zoo_folder(model: EZCLIP, folder: Path, card: dict[str, Any]) -> Path:
    """Write ``model`` as a zoo folder (`ezclip_zoo.save_pretrained`) with ``card``'s training record."""
    # adapters in float32: a fine-tuned model keeps its exact weights (the default fp16 is for published files)
    from ..zoo.serialization import save_pretrained

    return save_pretrained(model, folder, adapter_dtype=torch.float32, card=card)


def load_zoo_weights(model: EZCLIP, folder: Path) -> None:
    """Load the prompts and adapters of a zoo folder this run wrote into ``model``."""
    from safetensors.torch import load_file

    model.load_trainable_state_dict(load_file(str(folder / "model.safetensors")))


def training_card(card: dict | None, state: TrainState, config: TrainConfig, selected: str) -> dict[str, Any]:
    """``card`` with the run's ``training`` entry: recipe, steps, epochs, lr, batch, the selected weights."""
    card = dict(card or {})
    training = dict(card.get("training", {}))
    training.update(
        recipe="ezclip-zoo fit",
        steps=state.global_step,
        epochs=state.epoch,
        lr=config.lr,
        batch=config.batch_size,
        selected=selected,
    )
    if state.best_metric is not None:
        training["val_top1"] = round(state.best_metric, 2)
    card["training"] = training
    return card
