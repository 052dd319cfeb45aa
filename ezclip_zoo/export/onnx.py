"""ONNX files of the encoders (``torch.onnx.export`` with the dynamo exporter).

The batch (video) and class (text) dimensions are dynamic; T, the image size and the context length are fixed.
Each encoder is one self-contained ``.onnx`` file (weights inside: an 8-frame B/16 video encoder is about 350 MB,
far below protobuf's 2 GB). The exporter leaves the transposes of large weights to run time; they are folded
into the stored weights (`ezclip_zoo.export.graph`), so every linear layer reads a constant matrix.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import nn

__all__ = ["export_onnx", "OPSET"]

OPSET = 18


def export_onnx(
    module: nn.Module,
    example: torch.Tensor,
    path: str | os.PathLike,
    *,
    input_name: str,
    output_name: str,
    dynamic_dim: str,
) -> Path:
    """Export ``module(example)`` to ``path`` with dimension 0 of the input dynamic (named ``dynamic_dim``).

    Returns:
        ``path``.
    """
    path = Path(path)
    dim = torch.export.Dim(dynamic_dim, min=1, max=1 << 20)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on deprecated internals are not the user's business
        program = torch.onnx.export(
            module,
            (example,),
            dynamo=True,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_shapes={next(iter(_forward_arguments(module))): {0: dim}},
            opset_version=OPSET,
            verbose=False,
            report=False,
        )
    assert program is not None  # torch.onnx.export returns None only when dynamo=False
    program.save(str(path), external_data=False)
    import onnx

    from .graph import fold_weight_transposes

    proto = onnx.load(str(path))
    fold_weight_transposes(proto)  # exact: the weights stored as the products use them
    onnx.save(proto, str(path))
    return path


def _forward_arguments(module: nn.Module) -> list[str]:
    import inspect

    return [name for name in inspect.signature(module.forward).parameters]
