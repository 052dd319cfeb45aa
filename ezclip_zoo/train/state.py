"""What a training run is and returns: `TrainState` (saved in every checkpoint), `TrainResult`, and the digest
that tells whether two models' trainable weights are bit-identical."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..digest import tensor_digest

if TYPE_CHECKING:
    from ..modeling.model import EZCLIP

__all__ = ["TrainState", "TrainResult", "trainable_digest"]


@dataclass
class TrainState:
    """Where a run is: the data position and what it has seen so far (saved in every checkpoint)."""

    epoch: int = 0  # epochs completed
    step_in_epoch: int = 0  # optimizer steps done in the current epoch
    global_step: int = 0
    best_metric: float | None = None  # best validation top-1 (percent)
    best_step: int | None = None
    skipped_videos: int = 0  # clips that failed to decode, over all ranks
    skipped_batches: int = 0  # micro-batches dropped because a rank had no decodable clip
    failed_videos: list = field(default_factory=list)  # paths that failed to decode (first 1000)
    history: list = field(default_factory=list)  # per-epoch records

    def to_dict(self) -> dict[str, Any]:
        """The state as a dict of plain values (what a checkpoint stores)."""
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
        model: the trained `EZCLIP` (in eval mode) holding the selected weights, the one ``model_dir`` saves.
    """

    state: TrainState
    model_dir: Path | None
    selected: str
    seconds: float
    rank_digests: list[str]
    model: Any = field(default=None, repr=False)


def trainable_digest(model: EZCLIP) -> str:
    """sha256 over the names and bytes of the trainable tensors: equal digests mean bit-identical weights."""
    return tensor_digest((name, tensor.float()) for name, tensor in model.trainable_named_parameters())
