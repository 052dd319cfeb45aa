"""Export an `EZCLIP`'s encoders as ONNX (for ONNX Runtime: `ezclip_zoo.runtime`) or ``torch.export`` programs.

``export_model(model, "out_dir", class_names=["dancing", ...])`` writes the video and text encoders, the
tokenizer's file (CLIP's BPE, or a Hugging Face ``tokenizer.json``), the classes' text embeddings and a manifest
(``ezclip_export.json``); ``ezclip-zoo export MODEL OUT_DIR`` is the command. See `export_model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .exporter import DTYPES, check_options, export_model

__all__ = [
    "DTYPES",
    "check_options",
    "export_model",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".exporter": ("DTYPES", "check_options", "export_model"),
    },
)
