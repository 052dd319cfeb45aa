"""`export_model`: an `EZCLIP`'s two encoders as ONNX or ``torch.export`` files, plus what is needed to use them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..choices import EXPORT_FORMATS, QUANTIZATIONS
from ..modeling.exportable import TextEncoder, VideoEncoder
from ..runtime.manifest import MANIFEST_NAME
from .manifest import preprocess_entry, source_entry, text_pooling_entry, write_manifest
from .text_tokenizer import TOKENIZER_FILES, write_tokenizer

__all__ = ["export_model", "check_options", "DTYPES"]

DTYPES = (torch.float32, torch.float16, torch.bfloat16)
_SUFFIX = {"onnx": ".onnx", "torch-export": ".pt2"}
_CLASSES_FILE = "class_embeddings.npy"


def check_options(format: str, quantize: str | None, dtype: torch.dtype) -> None:
    """Raise ValueError for an export `export_model` cannot make (before any model is loaded)."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}")
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {(None, *QUANTIZATIONS)}, got {quantize!r}")
    if dtype not in DTYPES:
        raise ValueError(f"the model's dtype must be one of {DTYPES}, got {dtype}")
    if quantize is not None and (format != "onnx" or dtype != torch.float32):
        raise ValueError(
            f"quantize={quantize!r} quantizes a float32 ONNX export; got format={format!r}, dtype "
            f"{str(dtype).replace('torch.', '')}"
        )
    if format == "onnx" and dtype == torch.bfloat16:
        raise ValueError(
            "ONNX Runtime's CPU provider has no bfloat16 kernels: export ONNX in float32 or float16, "
            "or use format='torch-export' for bfloat16"
        )


def _prepare_folder(out_dir: str | os.PathLike) -> Path:
    """``out_dir``, created; an existing folder may hold only what an export writes (an earlier or interrupted
    export: those files are removed), so that nothing else is ever overwritten."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"out_dir {folder} is a file; pass a folder")
    encoders = {f"{encoder}_encoder{suffix}" for encoder in ("video", "text") for suffix in _SUFFIX.values()}
    ours = {MANIFEST_NAME, _CLASSES_FILE, *TOKENIZER_FILES} | encoders
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in ours or not p.is_file())
        if others:
            raise ValueError(
                f"out_dir {folder} holds files an export does not write ({', '.join(others[:3])}); "
                "pass a new or empty folder"
            )
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _export_encoder(
    module: torch.nn.Module,
    example: torch.Tensor,
    path: Path,
    *,
    format: str,
    input_name: str,
    output_name: str,
    dim: str,
    quantize: str | None,
    keep_float: Iterable[torch.Tensor],
) -> None:
    if format == "torch-export":
        from .torch_export import export_program

        export_program(module, example, path, dynamic_dim=dim)
        return
    from .onnx import export_onnx
    from .quantize import quantize_int8

    if quantize is None:
        export_onnx(module, example, path, input_name=input_name, output_name=output_name, dynamic_dim=dim)
        return
    with tempfile.TemporaryDirectory(prefix="ezclip-export-") as tmp:
        float_path = Path(tmp) / path.name
        export_onnx(module, example, float_path, input_name=input_name, output_name=output_name, dynamic_dim=dim)
        quantize_int8(float_path, path, keep_float)


def _classes(model: Any, folder: Path, class_names: Any, descriptions: Any, text: str | None) -> dict | None:
    """Precomputed normalised text embeddings [M, C, E] of the classes (as eager `classify` encodes them)."""
    if class_names is None:
        return None
    from ..inference.classification import label_set_for
    from ..text.cache import text_features

    labels, source = label_set_for(model, class_names, descriptions, None, text)
    with torch.inference_mode():
        features = text_features(model, labels, cache=False).float().cpu().numpy()
    np.save(folder / _CLASSES_FILE, features)
    return {
        "names": list(labels.names),
        "texts": [list(row) for row in labels.texts],
        "source": source,
        "file": _CLASSES_FILE,
    }


def export_model(
    model: Any,
    out_dir: str | os.PathLike,
    *,
    format: str = "onnx",
    quantize: str | None = None,
    class_names: None | str | Sequence[str] | Mapping[str, str] = None,
    descriptions: Sequence[str] | Mapping[str, str] | None = None,
    text: str | None = None,
    source: str | os.PathLike | None = None,
) -> Path:
    """Export an `EZCLIP`'s video and text encoders to ``out_dir``.

    Writes ``video_encoder`` (float32 frames [B, T, 3, S, S] -> L2-normalised float32 [B, E]; T fixed by the
    checkpoint's prompts, B dynamic) and ``text_encoder`` (int64 tokens [C, L] -> L2-normalised float32 [C, E], L the
    text tower's context, C dynamic, the tower's pooling inside) as ``.onnx`` or ``.pt2`` files, the tokenizer's file
    for the torch-free runtime (CLIP's BPE file, or a Hugging Face tokenizer's ``tokenizer.json``: runtime ids checked
    against the eager ones, `ezclip_zoo.export.text_tokenizer`), the classes' text embeddings when ``class_names`` is
    given, and ``ezclip_export.json`` (`ezclip_zoo.runtime.manifest`: shapes, family, preprocessing, tokenizer, logit
    scale, the sha256 of every file and of the source weights). The encoders compute in the model's dtype (float32,
    float16; bfloat16 for ``torch-export`` only). Every backbone family exports (docs/export.md, "Every backbone").

    Args:
        model: an `EZCLIP` on the CPU (traced in eval mode; its mode is restored after).
        out_dir: a new or empty folder, or an earlier export (replaced); other files are never overwritten.
        format: ``"onnx"`` (ONNX Runtime, `ezclip_zoo.runtime.OnnxModel`) or ``"torch-export"``.
        quantize: None, or ``"int8"``: dynamic int8 quantization of the video encoder's frozen linear layers (ONNX,
            float32; the text encoder stays float32).
        class_names, descriptions, text: the classes to precompute, as `ezclip_zoo.inference.classify` takes them
            (a list, a dict name -> description, or a class-set name).
        source: the name or folder the model was loaded from (recorded, with the sha256 of a folder's files).

    Returns:
        The manifest's path.

    Raises:
        ValueError: an option the export cannot make, a model not on the CPU, or a tokenizer the runtime cannot run
            as the model does (naming the model's family and why).
    """
    check_options(format, quantize, model.dtype)
    if model.device.type != "cpu":
        raise ValueError(
            f"export a CPU model (the graphs are traced where the weights are): the model is on "
            f"{model.device}; call model.to('cpu') first"
        )
    was_training = model.training
    model.eval()
    folder = _prepare_folder(out_dir)
    try:
        suffix = _SUFFIX[format]
        frames = torch.randn(2, model.num_frames, 3, model.image_size, model.image_size)
        tokenizer, tokenizer_files = write_tokenizer(model, folder)
        tokens = model.tokenize(["a photo of a person dancing", "juggling"]).cpu()
        adapters = [p for n, p in model.trainable_named_parameters() if ".adapters." in n]
        _export_encoder(
            VideoEncoder(model),
            frames,
            folder / f"video_encoder{suffix}",
            format=format,
            input_name="frames",
            output_name="video_embedding",
            dim="batch",
            quantize=quantize,
            keep_float=adapters,
        )
        # the text encoder stays float: it runs once per class set, and int8 text embeddings cost top-1
        # agreement (README, Export), where int8 video embeddings against float class embeddings mostly do not
        _export_encoder(
            TextEncoder(model),
            tokens,
            folder / f"text_encoder{suffix}",
            format=format,
            input_name="tokens",
            output_name="text_embedding",
            dim="classes",
            quantize=None,
            keep_float=adapters,
        )
        classes = _classes(model, folder, class_names, descriptions, text)
    finally:
        model.train(was_training)
    document = {
        "format": format,
        "dtype": str(model.dtype).replace("torch.", ""),
        "quantization": None if quantize is None else {"method": "int8-dynamic", "encoders": ["video"]},
        "model": model.config.name,
        "family": model.family,
        "num_frames": model.num_frames,
        "image_size": model.image_size,
        "embed_dim": model.embed_dim,
        "context_length": model.context_length,
        "logit_scale": float(model.logit_scale),
        "encoders": {
            "video": {
                "file": f"video_encoder{suffix}",
                "input": "frames",
                "output": "video_embedding",
                "input_shape": ["batch", model.num_frames, 3, model.image_size, model.image_size],
            },
            "text": {
                "file": f"text_encoder{suffix}",
                "input": "tokens",
                "output": "text_embedding",
                "input_shape": ["classes", model.context_length],
                **text_pooling_entry(model),
            },
        },
        "preprocess": preprocess_entry(model),
        "tokenizer": tokenizer,
        "classes": classes,
        "source": source_entry(model, source),
    }
    files = [f"video_encoder{suffix}", f"text_encoder{suffix}", *tokenizer_files] + (
        [classes["file"]] if classes else []
    )
    return write_manifest(folder, document, files)
