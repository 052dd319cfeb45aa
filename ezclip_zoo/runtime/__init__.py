"""Inference of an exported model folder (``ezclip-zoo export``) without PyTorch: ONNX Runtime for the encoders,
numpy/PIL/PyAV for the frames, a torch-free tokenizer for new class names (CLIP's BPE, or a backbone's Hugging Face
tokenizer through the ``tokenizers`` package).

``OnnxModel("out_dir").classify("clip.mp4")`` -> `RuntimeResult`. Importing this package never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .hf_tokenizer import HuggingFaceTokenizer
    from .manifest import MANIFEST_NAME, read_manifest
    from .onnx_model import OnnxModel, RuntimeResult
    from .preprocess import FramePreprocess, read_clip
    from .tokenizer import ClipTokenizer

__all__ = [
    "ClipTokenizer",
    "FramePreprocess",
    "HuggingFaceTokenizer",
    "MANIFEST_NAME",
    "OnnxModel",
    "RuntimeResult",
    "read_clip",
    "read_manifest",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".hf_tokenizer": ("HuggingFaceTokenizer",),
        ".manifest": ("MANIFEST_NAME", "read_manifest"),
        ".onnx_model": ("OnnxModel", "RuntimeResult"),
        ".preprocess": ("FramePreprocess", "read_clip"),
        ".tokenizer": ("ClipTokenizer",),
    },
)
