"""Int8 dynamic quantization of an exported encoder's frozen linear layers (ONNX Runtime's ``quantize_dynamic``)."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from .graph import gemm_as_matmul

__all__ = ["quantize_int8"]


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(f"{array.dtype}{array.shape}".encode() + np.ascontiguousarray(array).tobytes()).hexdigest()


def quantize_int8(
    source: str | os.PathLike, target: str | os.PathLike, keep_float: Iterable[torch.Tensor] = ()
) -> Path:
    """Quantize the constant matrices of ``source``'s linear layers to int8 and write ``target``.

    The weights are stored as int8 (per tensor, signed) and each layer's input is quantized at run time
    (``DynamicQuantizeLinear`` + ``MatMulInteger``); products of two activations (attention) stay float32. The
    MLPs' ``Gemm`` nodes are first rewritten as ``MatMul`` + ``Add`` (`gemm_as_matmul`), since dynamic
    quantization takes ``MatMul`` only.

    Args:
        source, target: the float32 ``.onnx`` file and where to write the quantized one.
        keep_float: tensors whose layers stay float32, found in the graph by value (as stored or transposed: the
            exporter renames weights): the EZ-CLIP adapters, so that the trained part keeps its precision.
    """
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    kept = set()
    for tensor in keep_float:
        array = tensor.detach().float().cpu().numpy()
        kept |= {_digest(array), _digest(array.T)}
    model = onnx.load(str(source))
    gemm_as_matmul(model)
    graph = model.graph
    trained = {init.name for init in graph.initializer if _digest(numpy_helper.to_array(init)) in kept}
    excluded = [
        node.name for node in graph.node if node.op_type == "MatMul" and any(name in trained for name in node.input)
    ]
    prepared = Path(target).with_suffix(".prepared.onnx")
    onnx.save(model, str(prepared))
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # its advice to run shape inference first concerns static quantization
    try:
        quantize_dynamic(
            str(prepared),
            str(target),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=excluded,
            extra_options={"MatMulConstBOnly": True},
        )
    finally:
        logging.disable(previous)
        prepared.unlink(missing_ok=True)
    return Path(target)
