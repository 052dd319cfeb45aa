"""ONNX files of the encoders (``torch.onnx.export`` with the dynamo exporter) and their int8 dynamic quantization.

The batch (video) and class (text) dimensions are dynamic; T, the image size and the context length are fixed.
Each encoder is one self-contained ``.onnx`` file (weights inside: an 8-frame B/16 video encoder is about 350 MB,
far below protobuf's 2 GB).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Iterable, Union

import torch
from torch import nn

__all__ = ["export_onnx", "quantize_int8", "OPSET"]

OPSET = 18


def export_onnx(module: nn.Module, example: torch.Tensor, path: Union[str, os.PathLike], *, input_name: str,
                output_name: str, dynamic_dim: str) -> Path:
    """Export ``module(example)`` to ``path`` with dimension 0 of the input dynamic (named ``dynamic_dim``).

    Returns:
        ``path``.
    """
    path = Path(path)
    dim = torch.export.Dim(dynamic_dim, min=1, max=1 << 20)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on deprecated internals are not the user's business
        program = torch.onnx.export(
            module, (example,), dynamo=True, input_names=[input_name], output_names=[output_name],
            dynamic_shapes={next(iter(_forward_arguments(module))): {0: dim}}, opset_version=OPSET, verbose=False,
            report=False,
        )
    program.save(str(path), external_data=False)
    return path


def _forward_arguments(module: nn.Module) -> list[str]:
    import inspect

    return [name for name in inspect.signature(module.forward).parameters]


def _digest(array) -> str:
    import hashlib

    import numpy as np

    return hashlib.sha256(f"{array.dtype}{array.shape}".encode() + np.ascontiguousarray(array).tobytes()).hexdigest()


def quantize_int8(source: Union[str, os.PathLike], target: Union[str, os.PathLike],
                  keep_float: Iterable[torch.Tensor] = ()) -> Path:
    """Int8 dynamic quantization of the frozen linear layers (ONNX Runtime's ``quantize_dynamic``).

    The constant matrices of ``MatMul``/``Gemm`` nodes are stored as int8 (per tensor, signed) and their
    activations quantized at run time; matrix products of two activations (attention) stay float32.

    Args:
        source, target: the float32 ``.onnx`` file and where to write the quantized one.
        keep_float: tensors whose nodes stay float32, found in the graph by value (as stored or transposed, since
            the exporter renames and pre-transposes weights): the EZ-CLIP adapters, so that the trained part
            keeps its precision.
    """
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    kept = set()
    for tensor in keep_float:
        array = tensor.detach().float().cpu().numpy()
        kept |= {_digest(array), _digest(array.T)}
    graph = onnx.load(str(source)).graph
    trained = {init.name for init in graph.initializer if _digest(numpy_helper.to_array(init)) in kept}
    excluded = [node.name for node in graph.node
                if node.op_type in ("MatMul", "Gemm") and any(name in trained for name in node.input)]
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # its advice to run shape inference first: about static quantization
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=excluded,
                         extra_options={"MatMulConstBOnly": True})
    finally:
        logging.disable(previous)
    return Path(target)
