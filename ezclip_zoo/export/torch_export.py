"""``torch.export`` programs of the encoders (``.pt2`` files, ``torch.export.load`` reads them back)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

__all__ = ["export_program"]


def export_program(module: nn.Module, example: torch.Tensor, path: str | os.PathLike, *, dynamic_dim: str) -> Path:
    """``torch.export.export(module, (example,))`` with dimension 0 dynamic (named ``dynamic_dim``), saved to
    ``path``. Returns ``path``."""
    import inspect

    path = Path(path)
    argument = next(iter(inspect.signature(module.forward).parameters))
    dim = torch.export.Dim(dynamic_dim, min=1, max=1 << 20)
    with torch.no_grad():
        program = torch.export.export(module, (example,), dynamic_shapes={argument: {0: dim}}, strict=False)
    torch.export.save(program, str(path))
    return path
