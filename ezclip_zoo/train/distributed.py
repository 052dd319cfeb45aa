"""One process, or many under ``torchrun``: process-group set-up and the collectives training needs."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistributedContext", "gather_with_grad"]


@dataclass
class DistributedContext:
    """Where this process sits: ``rank`` of ``world_size`` processes, using ``device``.

    `from_env` reads the variables ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) and starts the
    process group (NCCL with GPUs, gloo on CPU) if nobody has yet; without them it is a single process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @classmethod
    def from_env(cls, device: str | None = None) -> DistributedContext:
        """This process's place, from ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` as ``torchrun`` sets them.

        The device is ``device``, else this rank's GPU, else the CPU; the process group (NCCL on GPUs, gloo on CPU)
        is started when there are several processes and none has been started yet.
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device is not None:
            dev = torch.device(device)
        elif torch.cuda.is_available():
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        else:
            dev = torch.device("cpu")
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        owns = False
        if world > 1 and not dist.is_initialized():
            backend = "nccl" if dev.type == "cuda" else "gloo"
            dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=30))
            owns = True
        if dist.is_initialized():
            rank, world = dist.get_rank(), dist.get_world_size()
        return cls(rank=rank, world_size=world, local_rank=local_rank, device=dev, owns_group=owns)

    @property
    def distributed(self) -> bool:
        """Whether there is more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0 (the process that writes files and logs)."""
        return self.rank == 0

    def barrier(self) -> None:
        """Wait until every rank reaches this point (nothing in a single process)."""
        if self.distributed:
            dist.barrier()

    def all_reduce(self, value: float, op: str = "sum") -> float:
        """Sum / min / max of a number over ranks."""
        if not self.distributed:
            return value
        device = self.device if dist.get_backend() == "nccl" else torch.device("cpu")
        t = torch.tensor([float(value)], dtype=torch.float64, device=device)
        dist.all_reduce(t, op={"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[op])
        return float(t.item())

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` (picklable), in rank order; ``[obj]`` in a single process."""
        if not self.distributed:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        """Tear down the process group if this context started it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


class _GatherWithGrad(torch.autograd.Function):
    """All-gather rows of different counts per rank; the backward pass sums the gradients of every rank's copy
    of the result and returns this rank's rows (an all-reduce, which every backend supports)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, counts: tuple[int, ...], rank: int) -> torch.Tensor:
        ctx.counts, ctx.rank = counts, rank
        largest = max(counts)
        padded = x.new_zeros((largest, *x.shape[1:]))
        padded[: x.shape[0]] = x
        parts = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(parts, padded.contiguous())
        return torch.cat([p[:n] for p, n in zip(parts, counts, strict=True)])

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        start = sum(ctx.counts[: ctx.rank])
        return grad[start : start + ctx.counts[ctx.rank]], None, None


def gather_with_grad(x: torch.Tensor, counts: tuple[int, ...] | None = None) -> torch.Tensor:
    """Concatenate ``x`` [n_r, ...] from every rank in rank order, differentiably.

    When every rank computes the same loss from the gathered tensor and DDP averages the parameter gradients,
    the result equals the gradient of that loss computed in one process over the whole batch.

    Args:
        x: this rank's rows.
        counts: the row count of every rank (gathered here when omitted).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    if counts is None:
        ctx = DistributedContext(world_size=dist.get_world_size())
        counts = tuple(int(c) for c in ctx.all_gather_object(x.shape[0]))
    return _GatherWithGrad.apply(x, tuple(counts), dist.get_rank())
