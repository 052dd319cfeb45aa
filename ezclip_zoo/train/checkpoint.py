"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the trainable tensors, the optimizer and scheduler states, the random-number states of every
rank, the data position (epoch and optimizer steps done in it) and the settings that decide the result. It is a
``torch.save`` file of tensors and plain values, read back with ``weights_only=True``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import ResumeError
from .config import RESUME_KEYS

if TYPE_CHECKING:
    from torch.optim.lr_scheduler import LRScheduler

    from ..modeling.model import EZCLIP
    from .config import TrainConfig
    from .distributed import DistributedContext
    from .state import TrainState

__all__ = [
    "CHECKPOINT_NAME",
    "capture_rng_state",
    "restore_rng_state",
    "save_checkpoint",
    "load_checkpoint",
    "restore_run",
]

CHECKPOINT_NAME = "checkpoint.pt"
_FORMAT = "ezclip-zoo/train-checkpoint"
_VERSION = 1


def capture_rng_state() -> dict[str, Any]:
    """This process's torch (CPU and CUDA), Python and NumPy global random states, as plain Python values (so
    they can be gathered from every rank and stored in a ``weights_only`` checkpoint)."""
    np_state = np.random.get_state()
    assert isinstance(np_state, tuple)  # the global RandomState is an MT19937: its legacy state is a tuple
    np_name, np_keys, np_pos, np_has_gauss, np_cached = np_state
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state().tolist(),
        "python": [version, list(internal), gauss_next],
        "numpy": [np_name, np_keys.tolist(), int(np_pos), int(np_has_gauss), float(np_cached)],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng_state`."""
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` atomically (a crash while writing leaves the previous checkpoint intact)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": _FORMAT, "version": _VERSION, **payload}, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (``weights_only=True``: no code is unpickled)."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no training checkpoint at {str(path)!r}; nothing to resume")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ResumeError(f"{path} is not a readable ezclip-zoo training checkpoint ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ResumeError(f"{path} is not an ezclip-zoo training checkpoint")
    if data.get("version", 0) > _VERSION:
        raise ResumeError(f"{path} was written by a newer ezclip-zoo (checkpoint version {data['version']})")
    return data


def restore_run(
    path: str | os.PathLike,
    model: EZCLIP,
    optimizer: torch.optim.Optimizer,
    scheduler: LRScheduler,
    state: TrainState,
    config: TrainConfig,
    ctx: DistributedContext,
    steps_per_epoch: int,
) -> None:
    """Load a run's checkpoint into the model, optimizer, scheduler, state and RNG, refusing one written by another
    run (other settings, world size, training data or model)."""
    data = load_checkpoint(path)
    saved = data["config"]
    now = config.to_dict()
    saved = {"loss": "softmax", **saved}  # checkpoints written before the sigmoid loss existed used the softmax
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
