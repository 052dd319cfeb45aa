"""Rewrites of exported ONNX graphs: weight transposes folded into the weights (exact), and ``Gemm`` as
``MatMul`` + ``Add`` (what ONNX Runtime's dynamic quantization can quantize)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fold_weight_transposes", "gemm_as_matmul", "drop_unused_initializers"]


def _initializers(graph: Any) -> dict[str, Any]:
    return {init.name: init for init in graph.initializer}


def drop_unused_initializers(graph: Any) -> None:
    """Remove the initializers no node or output reads."""
    used = {name for node in graph.node for name in node.input} | {out.name for out in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def fold_weight_transposes(model: Any) -> int:
    """Replace every ``Transpose`` of an initializer by the transposed initializer (in place); returns how many.

    The dynamo exporter keeps ``F.linear``'s weight transposes as graph nodes for large weights; stored
    transposed, the weights are plain constant ``MatMul`` operands, the same numbers.
    """
    from onnx import numpy_helper

    graph = model.graph
    weights = _initializers(graph)
    kept, folded = [], 0
    for node in graph.node:
        if node.op_type == "Transpose" and node.input[0] in weights:
            array = numpy_helper.to_array(weights[node.input[0]])
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            graph.initializer.append(
                numpy_helper.from_array(np.ascontiguousarray(array.transpose(perm)), node.output[0])
            )
            folded += 1
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    drop_unused_initializers(graph)
    return folded


def _attribute(node: Any, name: str, default: float) -> float:
    from onnx import helper

    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def gemm_as_matmul(model: Any) -> int:
    """Rewrite ``Gemm(A, B, C)`` with constant B and C as ``MatMul(A, alpha * op(B)) + beta * C`` (in place).

    ``alpha`` moves onto the weight (the fused QuickGELU's 1.702 scale), which rounds differently from scaling the
    product by about 1e-7 relative. Returns how many nodes were rewritten.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = _initializers(graph)
    nodes, count = [], 0
    for node in graph.node:
        constant = node.op_type == "Gemm" and len(node.input) == 3 and all(n in weights for n in node.input[1:])
        if not constant or _attribute(node, "transA", 0):
            nodes.append(node)
            continue
        b = numpy_helper.to_array(weights[node.input[1]])
        b = b.T if _attribute(node, "transB", 0) else b
        c = numpy_helper.to_array(weights[node.input[2]])
        alpha, beta = _attribute(node, "alpha", 1.0), _attribute(node, "beta", 1.0)
        b_name, c_name, product = f"{node.name}.weight", f"{node.name}.bias", f"{node.name}.product"
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.ascontiguousarray(b * np.float32(alpha)).astype(b.dtype), b_name),
                numpy_helper.from_array((c * np.float32(beta)).astype(c.dtype), c_name),
            ]
        )
        nodes.append(helper.make_node("MatMul", [node.input[0], b_name], [product], name=f"{node.name}_matmul"))
        nodes.append(helper.make_node("Add", [product, c_name], list(node.output), name=f"{node.name}_add"))
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    drop_unused_initializers(graph)
    return count
