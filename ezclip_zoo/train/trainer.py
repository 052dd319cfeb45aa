"""The trainer behind `fit`: setup, epochs of optimizer steps, validation and model selection, checkpoints.

The order of every random draw is fixed (seeds, then the resumed RNG state, then data order per epoch), which is
what lets a resumed run end with exactly the weights of an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..data.dataset import collate_clips
from ..data.distributed_sampler import ResumableDistributedSampler
from ..errors import ResumeError
from ..evaluation.zero_shot import evaluate
from ..modeling.losses import ezclip_loss
from ..precision import autocast_context, resolve_precision
from .checkpoint import CHECKPOINT_NAME, capture_rng_state, restore_run, save_checkpoint
from .config import TrainConfig
from .distributed import DistributedContext, gather_with_grad
from .objective import loss_notes, sigmoid_bias
from .optim import build_optimizer, build_scheduler
from .outputs import load_zoo_weights, save_zoo_folder, training_card
from .state import TrainResult, TrainState, trainable_digest
from .texts import TextTable, check_class_texts

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["Trainer", "MODEL_DIR", "BEST_DIR", "LOG_NAME", "SUMMARY_NAME"]

logger = logging.getLogger("ezclip_zoo.train")

MODEL_DIR = "model"  # the final zoo folder (best on validation, or last)
BEST_DIR = "best"  # the best-on-validation zoo folder, kept up to date during training
LOG_NAME = "train_log.jsonl"
SUMMARY_NAME = "train_summary.json"


class _TrainStep(nn.Module):
    """What DistributedDataParallel wraps: one forward of the trainable path, returning features for the loss."""

    def __init__(self, model: EZCLIP) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode_frames(frames), self.model.encode_text(tokens)


class Trainer:
    """One run of `fit` (see it for the recipe and the files written). ``run()`` trains and returns the result."""

    def __init__(
        self,
        ctx: DistributedContext,
        model: EZCLIP,
        train_data: Dataset[Any],
        config: TrainConfig,
        *,
        class_texts: Sequence[Sequence[str]],
        output_dir: str | os.PathLike | None,
        val_data: Dataset[Any] | None,
        val_class_texts: Sequence[Sequence[str]] | None,
        resume: bool | str | Path,
        callbacks: Sequence[Callable[[TrainState], None]],
        card: dict[str, Any] | None,
        progress: bool = False,
    ) -> None:
        self.start_time = time.perf_counter()
        self.ctx, self.model, self.train_data, self.config = ctx, model, train_data, config
        self.logit_bias = sigmoid_bias(model, config)  # None: the reference's softmax loss
        self.device = ctx.device
        self.precision = resolve_precision(config.precision, self.device)
        self.out = Path(output_dir) if output_dir is not None else None
        texts = check_class_texts(class_texts, train_data)
        self.val_data = val_data
        self.val_texts = check_class_texts(val_class_texts or class_texts, val_data) if val_data is not None else None
        if resume and self.out is None:
            raise ValueError("resuming needs output_dir (where checkpoint.pt, best/ and model/ are)")
        self.callbacks, self.card = callbacks, card
        self._seed_and_place()
        self._plan_steps()
        self.optimizer = build_optimizer(model, config)
        self.scheduler = build_scheduler(self.optimizer, config, self.steps_per_epoch)
        self.state = TrainState()
        if resume:
            self._resume(resume)
        self.ddp = self._wrap(_TrainStep(model))
        self.table = TextTable(model, texts, config.seed)
        self.trainable = list(model.trainable_parameters())
        self.log_file = (self.out / LOG_NAME) if (self.out is not None and ctx.is_main) else None
        if self.out is not None and ctx.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        self.pending: dict[str, Any] = {"skipped": 0, "failures": []}  # this rank's failures not yet in ``state``
        self.best_weights: dict[str, torch.Tensor] | None = None  # in memory: selection without output_dir
        self.loader_generator = torch.Generator()  # the loader never draws from the global RNG (exact resume)
        self.progress = progress and ctx.is_main
        self._log_start()

    # ------------------------------------------------------------------ setup
    def _seed_and_place(self) -> None:
        config, rank = self.config, self.ctx.rank
        self.model.to(self.device)
        self.model.set_grad_checkpointing(config.grad_checkpointing)
        torch.manual_seed(config.seed + rank)  # dropout and drop-path streams; differ per rank like their data
        random.seed(config.seed + rank)
        np.random.seed((config.seed + rank) % 2**32)

    def _plan_steps(self) -> None:
        ctx, config = self.ctx, self.config
        self.sampler = ResumableDistributedSampler(
            self.train_data,
            num_replicas=ctx.world_size,
            rank=ctx.rank,
            shuffle=True,
            seed=config.seed,
            drop_last=True,
        )
        micro_per_epoch = self.sampler.num_samples // config.batch_size
        self.steps_per_epoch = micro_per_epoch // config.grad_accum_steps
        if self.steps_per_epoch < 1:
            raise ValueError(  # a map-style dataset has a length (the sampler needs it); torch's type does not say so
                f"the training set ({len(cast(Sized, self.train_data))} clips over {ctx.world_size} process(es)) "
                f"does not fill one optimizer step of batch_size {config.batch_size} x grad_accum_steps "
                f"{config.grad_accum_steps}; lower them"
            )
        self.total_steps = config.epochs * self.steps_per_epoch

    def _resume(self, resume: bool | str | Path) -> None:
        out = self.out
        assert out is not None  # __init__ refuses to resume without output_dir
        path = Path(resume) if isinstance(resume, (str, Path)) else out / CHECKPOINT_NAME
        restore_run(
            path, self.model, self.optimizer, self.scheduler, self.state, self.config, self.ctx, self.steps_per_epoch
        )
        if self.state.best_step is not None and not (out / BEST_DIR / "model.safetensors").is_file():
            raise ResumeError(f"the checkpoint refers to a best model in {out / BEST_DIR}, which is missing")
        logger.info(
            "resumed from %s at epoch %d, step %d/%d", path, self.state.epoch, self.state.global_step, self.total_steps
        )

    def _wrap(self, step_module: nn.Module) -> nn.Module:
        if not self.ctx.distributed:
            return step_module
        from torch.nn.parallel import DistributedDataParallel

        device = self.device
        return DistributedDataParallel(step_module, device_ids=[device.index] if device.type == "cuda" else None)

    def _log_start(self) -> None:
        if not self.ctx.is_main:
            return
        config = self.config
        for note in loss_notes(self.model, config):
            logger.info(note)
        logger.info(
            "training %d trainable tensors (%s parameters) for %d steps (%d epochs x %d), %d process(es), "
            "batch %d x %d accumulation, precision %s, device %s",
            len(self.trainable),
            f"{sum(p.numel() for p in self.trainable):,}",
            self.total_steps,
            config.epochs,
            self.steps_per_epoch,
            self.ctx.world_size,
            config.batch_size,
            config.grad_accum_steps,
            self.precision,
            self.device,
        )

    # ------------------------------------------------------------------ the run
    def run(self) -> TrainResult:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=self.total_steps,
            initial=self.state.global_step,
            unit="step",
            desc="fine-tuning",
            disable=not self.progress,
            dynamic_ncols=True,
        )
        try:
            while self.state.epoch < self.config.epochs:
                self._epoch()
        finally:
            self.bar.close()
        return self._finish()

    def _epoch(self) -> None:
        config, state = self.config, self.state
        epoch = state.epoch
        self.sampler.set_epoch(epoch)
        self.sampler.set_start(state.step_in_epoch * config.grad_accum_steps * config.batch_size)
        if hasattr(self.train_data, "set_epoch"):
            self.train_data.set_epoch(epoch)
        loader = DataLoader(
            self.train_data,
            batch_size=config.batch_size,
            sampler=self.sampler,
            num_workers=config.num_workers,
            collate_fn=collate_clips,
            drop_last=True,
            pin_memory=self.device.type == "cuda",
            generator=self.loader_generator,
        )
        batches = iter(loader)
        self.model.train()
        window = {"loss": 0.0, "n": 0, "clips": 0, "t": time.perf_counter()}
        while state.step_in_epoch < self.steps_per_epoch:
            self._step(batches, epoch, window)
        self._end_epoch(epoch)

    def _step(self, batches: Iterator[dict[str, Any]], epoch: int, window: dict[str, Any]) -> None:
        """One optimizer step over ``grad_accum_steps`` micro-batches, then logging, callbacks, checkpoints."""
        config, state = self.config, self.state
        contributed = sum(self._micro_batch(next(batches), epoch, window) for _ in range(config.grad_accum_steps))
        if contributed:
            if config.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.trainable, config.max_grad_norm)
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        state.global_step += 1
        state.step_in_epoch += 1
        self.bar.update(1)
        if window["n"]:
            self.bar.set_postfix(
                loss=f"{window['loss'] / window['n']:.4f}",
                lr=f"{self.scheduler.get_last_lr()[0]:.2e}",
                epoch=state.epoch + 1,
                refresh=False,
            )
        if state.global_step % config.log_every_steps == 0 or state.step_in_epoch == self.steps_per_epoch:
            self._log_window(window)
        for callback in self.callbacks:
            callback(state)
        if (
            config.checkpoint_every_steps
            and state.global_step % config.checkpoint_every_steps == 0
            and state.step_in_epoch < self.steps_per_epoch
        ):
            self._checkpoint()

    def _micro_batch(self, batch: dict[str, Any], epoch: int, window: dict[str, Any]) -> bool:
        """Forward and backward of one micro-batch; False when it was skipped (a rank had no decodable clip)."""
        ctx, config, device = self.ctx, self.config, self.device
        self.pending["skipped"] += len(batch["failures"])
        self.pending["failures"] += [p for p, _ in batch["failures"]]
        n_local = 0 if batch["frames"] is None else int(batch["labels"].numel())
        counts = tuple(int(c) for c in ctx.all_gather_object(n_local)) if ctx.distributed else (n_local,)
        if min(counts) == 0:  # some rank has nothing to contribute: every rank skips this micro-batch
            self.state.skipped_batches += 1
            return False
        tokens, inverse = self.table.batch(batch["labels"], batch["indices"], epoch)
        frames = batch["frames"].to(device, non_blocking=True)
        labels = batch["labels"].to(device)
        with autocast_context(device, self.precision):
            frame_features, text_unique = self.ddp(frames, tokens.to(device))
        frame_features = frame_features.float()
        text_features = text_unique.float()[inverse.to(device)]
        if ctx.distributed and config.gather_features:
            frame_features = gather_with_grad(frame_features, counts)
            text_features = gather_with_grad(text_features, counts)
            labels = gather_with_grad(labels, counts)
        loss = ezclip_loss(
            frame_features,
            text_features,
            labels,
            self.model.train_logit_scale.float(),
            motion_weight=config.motion_weight,
            logit_bias=None if self.logit_bias is None else self.logit_bias.float(),
        )
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"loss is {loss.item()} at step {self.state.global_step}; lower the learning rate or use fp32"
            )
        (loss / config.grad_accum_steps).backward()
        window["loss"] += float(loss.detach())
        window["n"] += 1
        window["clips"] += sum(counts)
        return True

    def _end_epoch(self, epoch: int) -> None:
        state, config = self.state, self.config
        self._flush_skipped()
        record: dict[str, Any] = {"epoch": epoch, "step": state.global_step, "skipped_videos": state.skipped_videos}
        state.epoch += 1
        state.step_in_epoch = 0
        last = state.epoch == config.epochs
        if self.val_data is not None and (state.epoch % config.eval_every_epochs == 0 or last):
            self._validate(epoch, record)
        state.history.append(record)
        if self.log_file is not None:
            with open(self.log_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"event": "epoch", **record}) + "\n")
        self._checkpoint()

    def _validate(self, epoch: int, record: dict[str, Any]) -> None:
        """Score the validation set; keep the weights (in memory and in ``best/``) when they are the best yet."""
        state, config, ctx = self.state, self.config, self.ctx
        assert self.val_data is not None and self.val_texts is not None  # only called with validation data
        result = evaluate(
            self.model,
            self.val_data,
            self.val_texts,
            batch_size=config.eval_batch_size or config.batch_size,
            num_workers=config.num_workers,
            precision=self.precision,
            name="validation",
        )
        record.update(val_top1=result.top1, val_top5=result.top5, val_videos=result.num_videos)
        if state.best_metric is None or result.top1 > state.best_metric:
            state.best_metric, state.best_step = result.top1, state.global_step
            record["best"] = True
            self.best_weights = {k: v.detach().cpu().clone() for k, v in self.model.trainable_state_dict().items()}
            if self.out is not None and ctx.is_main:
                save_zoo_folder(self.model, self.out / BEST_DIR, training_card(self.card, state, config, "best"))
            ctx.barrier()
        if ctx.is_main:
            logger.info(
                "epoch %d: validation top-1 %.2f%% top-5 %.2f%% (best %.2f%% at step %s)",
                epoch,
                result.top1,
                result.top5,
                state.best_metric,
                state.best_step,
            )

    # ------------------------------------------------------------------ bookkeeping
    def _log_window(self, window: dict[str, Any]) -> None:
        """Log the steps since the last call (rank 0: the logger and ``train_log.jsonl``), then start a new window."""
        now, state = time.perf_counter(), self.state
        if window["n"] and self.ctx.is_main:
            loss = window["loss"] / window["n"]
            rate = window["clips"] / max(now - window["t"], 1e-9)
            lr = self.scheduler.get_last_lr()[0]
            logger.info(
                "step %d/%d loss %.4f lr %.3g %.1f clips/s", state.global_step, self.total_steps, loss, lr, rate
            )
            if self.log_file is not None:
                record = {"event": "step", "step": state.global_step, "loss": loss, "lr": lr, "clips_per_s": rate}
                with open(self.log_file, "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
        window.update(loss=0.0, n=0, clips=0, t=now)

    def _flush_skipped(self) -> int:
        ctx, state, pending = self.ctx, self.state, self.pending
        skipped = int(ctx.all_reduce(pending["skipped"]))
        failed = sorted({p for ps in ctx.all_gather_object(pending["failures"]) for p in ps}) if skipped else []
        if skipped and ctx.is_main:
            logger.warning("%d clips failed to decode and were skipped: %s", skipped, failed[:20])
        state.skipped_videos += skipped
        state.failed_videos = sorted(set(state.failed_videos) | set(failed))[:1000]
        pending.update(skipped=0, failures=[])
        return skipped

    def _checkpoint(self) -> None:
        if self.out is None:
            return
        ctx, model = self.ctx, self.model
        self._flush_skipped()
        rng = ctx.all_gather_object(capture_rng_state())
        if ctx.is_main:
            save_checkpoint(
                self.out / CHECKPOINT_NAME,
                {
                    "trainable": {k: v.detach().cpu().clone() for k, v in model.trainable_state_dict().items()},
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "rng": rng,
                    "state": self.state.to_dict(),
                    "world_size": ctx.world_size,
                    "steps_per_epoch": self.steps_per_epoch,
                    "config": self.config.to_dict(),
                    "model_config": model.config.to_dict(),
                },
            )
        ctx.barrier()

    def _select(self) -> str:
        """Put the selected weights into the model: the best validation epoch's, or the last."""
        state = self.state
        if self.val_data is None or state.best_step is None:
            return "last"
        if state.best_step != state.global_step:
            if self.best_weights is not None:
                self.model.load_trainable_state_dict(self.best_weights)
            else:  # the best epoch was before an interruption: its weights are on disk
                assert self.out is not None  # a resumed run has an output_dir
                load_zoo_weights(self.model, self.out / BEST_DIR)
        return "best"

    def _finish(self) -> TrainResult:
        ctx, state, config, out = self.ctx, self.state, self.config, self.out
        selected = self._select()
        digests = ctx.all_gather_object(trainable_digest(self.model))
        if len(set(digests)) != 1:
            logger.error("ranks ended with different weights: %s", digests)
        model_dir = None
        seconds = time.perf_counter() - self.start_time
        if out is not None and ctx.is_main:
            model_dir = save_zoo_folder(self.model, out / MODEL_DIR, training_card(self.card, state, config, selected))
            summary = {
                "selected": selected,
                "seconds_this_run": round(seconds, 3),
                "world_size": ctx.world_size,
                "precision": self.precision,
                "steps_per_epoch": self.steps_per_epoch,
                "total_steps": self.total_steps,
                "rank_digests": digests,
                "ranks_in_sync": len(set(digests)) == 1,
                "state": state.to_dict(),
                "config": config.to_dict(),
            }
            (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        ctx.barrier()
        self.model.eval()
        return TrainResult(
            state=state, model_dir=model_dir, selected=selected, seconds=seconds, rank_digests=digests, model=self.model
        )
