"""`fit`: fine-tune an EZ-CLIP model with the reference recipe, on one CPU, one GPU or many through torchrun."""

from __future__ import annotations

import json
import random
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..data.dataset import collate_clips
from ..data.distributed_sampler import ResumableDistributedSampler
from ..data.seeding import sample_seed
from ..errors import ResumeError
from ..digest import tensor_digest
from ..precision import autocast_context, resolve_precision
from ..evaluation.zero_shot import evaluate
from ..modeling.losses import ezclip_loss
from .checkpoint import CHECKPOINT_NAME, capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from .config import RESUME_KEYS, TrainConfig
from .distributed import DistributedContext, gather_with_grad
from .optim import build_optimizer, build_scheduler

__all__ = ["fit", "TrainState", "TrainResult", "trainable_digest"]

logger = logging.getLogger("ezclip_zoo.train")

MODEL_DIR = "model"  # the final zoo folder (best on validation, or last)
BEST_DIR = "best"  # the best-on-validation zoo folder, kept up to date during training
LOG_NAME = "train_log.jsonl"
SUMMARY_NAME = "train_summary.json"


@dataclass
class TrainState:
    """Where a run is: the data position and what it has seen so far (saved in every checkpoint)."""

    epoch: int = 0  # epochs completed
    step_in_epoch: int = 0  # optimizer steps done in the current epoch
    global_step: int = 0
    best_metric: Optional[float] = None  # best validation top-1 (percent)
    best_step: Optional[int] = None
    skipped_videos: int = 0  # clips that failed to decode, over all ranks
    skipped_batches: int = 0  # micro-batches dropped because a rank had no decodable clip
    failed_videos: list = field(default_factory=list)  # paths that failed to decode (first 1000)
    history: list = field(default_factory=list)  # per-epoch records

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TrainResult:
    """What `fit` returns.

    Attributes:
        state: the final `TrainState` (steps, best validation accuracy, skipped videos, per-epoch history).
        model_dir: the zoo folder written at the end (``output_dir/model``; None without ``output_dir``).
        selected: ``"best"`` (weights of the best validation epoch) or ``"last"``.
        seconds: wall time of this invocation.
        rank_digests: sha256 of the trainable tensors on every rank at the end (all equal when in sync).
    """

    state: TrainState
    model_dir: Optional[Path]
    selected: str
    seconds: float
    rank_digests: list[str]


def trainable_digest(model) -> str:
    """sha256 over the names and bytes of the trainable tensors: equal digests mean bit-identical weights."""
    return tensor_digest((name, tensor.float()) for name, tensor in model.trainable_named_parameters())


class _TrainStep(nn.Module):
    """What DistributedDataParallel wraps: one forward of the trainable path, returning features for the loss."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode_frames(frames), self.model.encode_text(tokens)


def _check_class_texts(class_texts: Sequence[Sequence[str]], dataset: Dataset) -> list[list[str]]:
    texts = [list(t) for t in class_texts]
    if not texts or any(not t or not all(isinstance(s, str) and s for s in t) for t in texts):
        raise ValueError("class_texts must give every class at least one non-empty text")
    classes = getattr(dataset, "classes", None)
    if classes is not None and len(classes) != len(texts):
        raise ValueError(f"class_texts has {len(texts)} classes, the dataset {len(classes)}")
    return texts


class _TextTable:
    """Token ids of every class text, tokenized once; picks one text per clip deterministically."""

    def __init__(self, model, class_texts: list[list[str]], seed: int) -> None:
        self.counts = [len(t) for t in class_texts]
        flat = [s for t in class_texts for s in t]
        self.offsets = [sum(self.counts[:c]) for c in range(len(class_texts))]
        self.tokens = model.tokenize(flat).cpu()
        self.seed = seed

    def batch(self, labels: torch.Tensor, indices: torch.Tensor, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unique token rows [U, L] for the clips and, per clip, the row of its text [B]."""
        rows = []
        for label, index in zip(labels.tolist(), indices.tolist()):
            n = self.counts[label]
            choice = 0 if n == 1 else sample_seed(self.seed, epoch, index, "text") % n
            rows.append(self.offsets[label] + choice)
        unique, inverse = torch.unique(torch.tensor(rows), return_inverse=True)
        tokens = self.tokens[unique]
        length = int((tokens != 0).sum(dim=1).max())  # trim padding; the causal mask makes it exact
        return tokens[:, :length], inverse


def _save_zoo_folder(model, folder: Path, card: dict[str, Any]) -> Path:
    # adapters in float32: a fine-tuned model keeps its exact weights (the default fp16 is for published files)
    return model.save_pretrained(folder, adapter_dtype=torch.float32, card=card)


def _load_zoo_weights(model, folder: Path) -> None:
    from safetensors.torch import load_file

    model.load_trainable_state_dict(load_file(str(folder / "model.safetensors")))


def fit(
    model,
    train_data: Dataset,
    config: TrainConfig,
    *,
    class_texts: Sequence[Sequence[str]],
    output_dir: Optional[Union[str, Path]] = None,
    val_data: Optional[Dataset] = None,
    val_class_texts: Optional[Sequence[Sequence[str]]] = None,
    resume: Union[bool, str, Path] = False,
    callbacks: Sequence[Callable[[TrainState], None]] = (),
    card: Optional[dict[str, Any]] = None,
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
        class_texts: per class of ``train_data``, its candidate texts (`ezclip_zoo.data.class_texts`).
        output_dir: where files go (None: nothing is written, nothing can be resumed).
        val_data: validation set for model selection (never the test set), scored like `evaluate`.
        val_class_texts: class texts of ``val_data`` (default ``class_texts``).
        resume: False, True (``output_dir/checkpoint.pt``) or a checkpoint path (``output_dir`` still required).
        callbacks: called with the `TrainState` after every optimizer step (logging, early stop by raising).
        card: extra model-card fields for the final folder (e.g. ``{"training": {"dataset": "ucf101"}}``).

    Returns:
        A `TrainResult`; ``model`` holds the selected weights.
    """
    ctx = DistributedContext.from_env(config.device)
    try:
        return _fit(ctx, model, train_data, config, class_texts, output_dir, val_data, val_class_texts, resume,
                    callbacks, card)
    finally:
        ctx.close()  # only if this call started the process group


def _fit(ctx, model, train_data, config, class_texts, output_dir, val_data, val_class_texts, resume, callbacks,
         card) -> TrainResult:
    start_time = time.perf_counter()
    device = ctx.device
    precision = resolve_precision(config.precision, device)
    out = Path(output_dir) if output_dir is not None else None
    texts = _check_class_texts(class_texts, train_data)
    val_texts = _check_class_texts(val_class_texts or class_texts, val_data) if val_data is not None else None
    if resume and out is None:
        raise ValueError("resuming needs output_dir (where checkpoint.pt, best/ and model/ are)")

    model.to(device)
    model.set_grad_checkpointing(config.grad_checkpointing)
    torch.manual_seed(config.seed + ctx.rank)  # dropout and drop-path streams; differ per rank like their data
    random.seed(config.seed + ctx.rank)
    np.random.seed((config.seed + ctx.rank) % 2**32)

    sampler = ResumableDistributedSampler(
        train_data, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=config.seed, drop_last=True
    )
    micro_per_epoch = sampler.num_samples // config.batch_size
    steps_per_epoch = micro_per_epoch // config.grad_accum_steps
    if steps_per_epoch < 1:
        raise ValueError(
            f"the training set ({len(train_data)} clips over {ctx.world_size} process(es)) does not fill one optimizer "
            f"step of batch_size {config.batch_size} x grad_accum_steps {config.grad_accum_steps}; lower them"
        )
    total_steps = config.epochs * steps_per_epoch
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch)
    state = TrainState()

    if resume:
        path = Path(resume) if isinstance(resume, (str, Path)) else out / CHECKPOINT_NAME
        _restore(path, model, optimizer, scheduler, state, config, ctx, steps_per_epoch)
        if out is not None and state.best_step is not None and not (out / BEST_DIR / "model.safetensors").is_file():
            raise ResumeError(f"the checkpoint refers to a best model in {out / BEST_DIR}, which is missing")
        logger.info("resumed from %s at epoch %d, step %d/%d", path, state.epoch, state.global_step, total_steps)

    step_module = _TrainStep(model)
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(step_module, device_ids=[device.index] if device.type == "cuda" else None)
    else:
        ddp = step_module
    table = _TextTable(model, texts, config.seed)
    trainable = list(model.trainable_parameters())
    log_file = (out / LOG_NAME) if (out is not None and ctx.is_main) else None
    if out is not None and ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
    if ctx.is_main:
        logger.info(
            "training %d trainable tensors (%s parameters) for %d steps (%d epochs x %d), %d process(es), "
            "batch %d x %d accumulation, precision %s, device %s",
            len(trainable), f"{sum(p.numel() for p in trainable):,}", total_steps, config.epochs, steps_per_epoch,
            ctx.world_size, config.batch_size, config.grad_accum_steps, precision, device,
        )

    pending = {"skipped": 0, "failures": []}  # this rank's decode failures not yet added to ``state``

    def flush_skipped() -> int:
        skipped = int(ctx.all_reduce(pending["skipped"]))
        failed = sorted({p for ps in ctx.all_gather_object(pending["failures"]) for p in ps}) if skipped else []
        if skipped and ctx.is_main:
            logger.warning("%d clips failed to decode and were skipped: %s", skipped, failed[:20])
        state.skipped_videos += skipped
        state.failed_videos = sorted(set(state.failed_videos) | set(failed))[:1000]
        pending.update(skipped=0, failures=[])
        return skipped

    def checkpoint() -> None:
        if out is None:
            return
        flush_skipped()
        rng = ctx.all_gather_object(capture_rng_state())
        if ctx.is_main:
            save_checkpoint(
                out / CHECKPOINT_NAME,
                {
                    "trainable": {k: v.detach().cpu().clone() for k, v in model.trainable_state_dict().items()},
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": rng,
                    "state": state.to_dict(),
                    "world_size": ctx.world_size,
                    "steps_per_epoch": steps_per_epoch,
                    "config": config.to_dict(),
                    "model_config": model.config.to_dict(),
                },
            )
        ctx.barrier()

    best_weights: Optional[dict[str, torch.Tensor]] = None  # in memory, so selection works without output_dir
    loader_generator = torch.Generator()  # the loader never draws from the global RNG (exact resume)
    while state.epoch < config.epochs:
        epoch = state.epoch
        sampler.set_epoch(epoch)
        sampler.set_start(state.step_in_epoch * config.grad_accum_steps * config.batch_size)
        if hasattr(train_data, "set_epoch"):
            train_data.set_epoch(epoch)
        loader = DataLoader(
            train_data,
            batch_size=config.batch_size,
            sampler=sampler,
            num_workers=config.num_workers,
            collate_fn=collate_clips,
            drop_last=True,
            pin_memory=device.type == "cuda",
            generator=loader_generator,
        )
        batches = iter(loader)
        model.train()
        window = {"loss": 0.0, "n": 0, "clips": 0, "t": time.perf_counter()}
        while state.step_in_epoch < steps_per_epoch:
            contributed = 0
            for _ in range(config.grad_accum_steps):
                batch = next(batches)
                pending["skipped"] += len(batch["failures"])
                pending["failures"] += [p for p, _ in batch["failures"]]
                n_local = 0 if batch["frames"] is None else int(batch["labels"].numel())
                counts = tuple(int(c) for c in ctx.all_gather_object(n_local)) if ctx.distributed else (n_local,)
                if min(counts) == 0:  # some rank has nothing to contribute: every rank skips this micro-batch
                    state.skipped_batches += 1
                    continue
                tokens, inverse = table.batch(batch["labels"], batch["indices"], epoch)
                frames = batch["frames"].to(device, non_blocking=True)
                labels = batch["labels"].to(device)
                with autocast_context(device, precision):
                    frame_features, text_unique = ddp(frames, tokens.to(device))
                frame_features = frame_features.float()
                text_features = text_unique.float()[inverse.to(device)]
                if ctx.distributed and config.gather_features:
                    frame_features = gather_with_grad(frame_features, counts)
                    text_features = gather_with_grad(text_features, counts)
                    labels = gather_with_grad(labels, counts)
                loss = ezclip_loss(
                    frame_features, text_features, labels, model.train_logit_scale.float(),
                    motion_weight=config.motion_weight,
                )
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"loss is {loss.item()} at step {state.global_step}; lower the learning rate or use fp32"
                    )
                (loss / config.grad_accum_steps).backward()
                contributed += 1
                window["loss"] += float(loss.detach())
                window["n"] += 1
                window["clips"] += sum(counts)
            if contributed:
                if config.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
                optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
            state.global_step += 1
            state.step_in_epoch += 1
            if state.global_step % config.log_every_steps == 0 or state.step_in_epoch == steps_per_epoch:
                _log_window(window, state, scheduler, total_steps, log_file, ctx)
            for callback in callbacks:
                callback(state)
            if (
                config.checkpoint_every_steps
                and state.global_step % config.checkpoint_every_steps == 0
                and state.step_in_epoch < steps_per_epoch
            ):
                checkpoint()
        # ---- end of epoch
        flush_skipped()
        record: dict[str, Any] = {"epoch": epoch, "step": state.global_step, "skipped_videos": state.skipped_videos}
        state.epoch += 1
        state.step_in_epoch = 0
        last = state.epoch == config.epochs
        if val_data is not None and (state.epoch % config.eval_every_epochs == 0 or last):
            result = evaluate(
                model, val_data, val_texts, batch_size=config.eval_batch_size or config.batch_size,
                num_workers=config.num_workers, precision=precision, name="validation",
            )
            record.update(val_top1=result.top1, val_top5=result.top5, val_videos=result.num_videos)
            if state.best_metric is None or result.top1 > state.best_metric:
                state.best_metric, state.best_step = result.top1, state.global_step
                record["best"] = True
                best_weights = {k: v.detach().cpu().clone() for k, v in model.trainable_state_dict().items()}
                if out is not None and ctx.is_main:
                    _save_zoo_folder(model, out / BEST_DIR, _card(card, state, config, "best"))
                ctx.barrier()
            if ctx.is_main:
                logger.info(
                    "epoch %d: validation top-1 %.2f%% top-5 %.2f%% (best %.2f%% at step %s)",
                    epoch, result.top1, result.top5, state.best_metric, state.best_step,
                )
        state.history.append(record)
        if log_file is not None:
            with open(log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"event": "epoch", **record}) + "\n")
        checkpoint()

    selected = "last"
    if val_data is not None and state.best_step is not None:
        selected = "best"
        if state.best_step != state.global_step:
            if best_weights is not None:
                model.load_trainable_state_dict(best_weights)
            else:  # the best epoch was before an interruption: its weights are on disk
                _load_zoo_weights(model, out / BEST_DIR)
    digests = ctx.all_gather_object(trainable_digest(model))
    if len(set(digests)) != 1:
        logger.error("ranks ended with different weights: %s", digests)
    model_dir = None
    seconds = time.perf_counter() - start_time
    if out is not None and ctx.is_main:
        model_dir = _save_zoo_folder(model, out / MODEL_DIR, _card(card, state, config, selected))
        summary = {
            "selected": selected,
            "seconds_this_run": round(seconds, 3),
            "world_size": ctx.world_size,
            "precision": precision,
            "steps_per_epoch": steps_per_epoch,
            "total_steps": total_steps,
            "rank_digests": digests,
            "ranks_in_sync": len(set(digests)) == 1,
            "state": state.to_dict(),
            "config": config.to_dict(),
        }
        (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    ctx.barrier()
    model.eval()
    return TrainResult(state=state, model_dir=model_dir, selected=selected, seconds=seconds, rank_digests=digests)


def _card(card: Optional[dict], state: TrainState, config: TrainConfig, selected: str) -> dict[str, Any]:
    card = dict(card or {})
    training = dict(card.get("training", {}))
    training.update(
        recipe="ezclip-zoo fit", steps=state.global_step, epochs=state.epoch, lr=config.lr,
        batch=config.batch_size, selected=selected,
    )
    if state.best_metric is not None:
        training["val_top1"] = round(state.best_metric, 2)
    card["training"] = training
    return card


def _log_window(window, state, scheduler, total_steps, log_file, ctx) -> None:
    now = time.perf_counter()
    if window["n"] and ctx.is_main:
        loss = window["loss"] / window["n"]
        rate = window["clips"] / max(now - window["t"], 1e-9)
        lr = scheduler.get_last_lr()[0]
        logger.info("step %d/%d loss %.4f lr %.3g %.1f clips/s", state.global_step, total_steps, loss, lr, rate)
        if log_file is not None:
            with open(log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"event": "step", "step": state.global_step, "loss": loss, "lr": lr,
                                    "clips_per_s": rate}) + "\n")
    window.update(loss=0.0, n=0, clips=0, t=now)


def _restore(path, model, optimizer, scheduler, state, config, ctx, steps_per_epoch) -> None:
    data = load_checkpoint(path)
    saved = data["config"]
    now = config.to_dict()
    changed = [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in RESUME_KEYS if saved.get(k) != now[k]]
    if changed:
        raise ResumeError(
            f"{path} was written with other settings ({'; '.join(changed)}); resume with the same ones, or start "
            "a new run in another output folder"
        )
    if data["world_size"] != ctx.world_size:
        raise ResumeError(
            f"{path} was written by {data['world_size']} process(es), this run has {ctx.world_size}; the data order "
            "and random streams depend on it, so resume with the same number of processes"
        )
    if data["steps_per_epoch"] != steps_per_epoch:
        raise ResumeError(
            f"{path} had {data['steps_per_epoch']} steps per epoch, this training set gives {steps_per_epoch}: "
            "the training data changed"
        )
    if data["model_config"] != model.config.to_dict():
        raise ResumeError(f"{path} was written for another model configuration ({data['model_config'].get('name')})")
    model.load_trainable_state_dict(data["trainable"])
    optimizer.load_state_dict(data["optimizer"])
    scheduler.load_state_dict(data["scheduler"])
    restore_rng_state(data["rng"][ctx.rank])
    for key, value in data["state"].items():
        setattr(state, key, value)
