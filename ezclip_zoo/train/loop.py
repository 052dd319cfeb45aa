"""`fit`: fine-tune an EZ-CLIP model with the reference recipe, on one CPU, one GPU or many through torchrun."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch.utils.data import Dataset

from .config import TrainConfig
from .distributed import DistributedContext
from .state import TrainResult, TrainState
from .trainer import Trainer

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["fit"]


def fit(
    model: EZCLIP,
    train_data: Dataset[Any],
    config: TrainConfig,
    *,
    class_texts: Sequence[Sequence[str]],
    output_dir: str | os.PathLike | None = None,
    val_data: Dataset[Any] | None = None,
    val_class_texts: Sequence[Sequence[str]] | None = None,
    resume: bool | str | Path = False,
    callbacks: Sequence[Callable[[TrainState], None]] = (),
    card: dict[str, Any] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Fine-tune the prompts and adapters of ``model``; the frozen CLIP is never updated.

    Every optimizer step: ``grad_accum_steps`` micro-batches of ``batch_size`` clips per rank, each clip paired
    with one of its class's texts (drawn per clip from ``(seed, epoch, index)``), loss = KL contrastive over the
    batch (gathered over ranks) + ``motion_weight`` x motion loss, backward under bf16 autocast when enabled,
    gradient-norm clipping when ``max_grad_norm`` is set, AdamW step, warm-up/cosine schedule step.

    With ``output_dir`` the run writes ``checkpoint.pt`` (end of every epoch and every ``checkpoint_every_steps``),
    ``train_log.jsonl``, ``best/`` (best validation accuracy so far), and at the end ``model/``: a zoo folder
    (`ezclip_zoo.load` reads it) of the best validation epoch, or of the last step without validation data,
    plus ``train_summary.json``. ``resume=True`` continues from ``output_dir/checkpoint.pt`` (or pass a path) and
    ends with exactly the weights an uninterrupted run would have (same settings, world size and thread count).

    Under ``torchrun`` each process runs `fit` with the same arguments; DistributedDataParallel keeps the ranks
    identical and rank 0 writes the files.

    Args:
        model: an `EZCLIP` (moved to the rank's device here).
        train_data: items ``{"frames": float [T, 3, S, S], "label": int, "index": int}`` (a `VideoClipDataset`
            with ``train=True``, or any dataset of that shape); undecodable items are skipped and counted.
        config: the `TrainConfig`.
        class_texts: per class of ``train_data``, its candidate texts (`ezclip_zoo.text.class_texts`).
        output_dir: where files go (None: nothing is written, nothing can be resumed).
        val_data: validation set for model selection (never the test set), scored like `evaluate`.
        val_class_texts: class texts of ``val_data`` (default ``class_texts``).
        resume: False, True (``output_dir/checkpoint.pt``) or a checkpoint path (``output_dir`` still required).
        callbacks: called with the `TrainState` after every optimizer step (logging, early stop by raising).
        card: extra model-card fields for the final folder (e.g. ``{"training": {"dataset": "ucf101"}}``).
        progress: a tqdm bar over the optimizer steps (ETA, loss, learning rate) on stderr; log lines are
            written either way.

    Returns:
        A `TrainResult`; ``model`` holds the selected weights.
    """
    ctx = DistributedContext.from_env(config.device)
    try:
        trainer = Trainer(
            ctx,
            model,
            train_data,
            config,
            class_texts=class_texts,
            output_dir=output_dir,
            val_data=val_data,
            val_class_texts=val_class_texts,
            resume=resume,
            callbacks=callbacks,
            card=card,
            progress=progress,
        )
        return trainer.run()
    finally:
        ctx.close()  # only if this call started the process group
