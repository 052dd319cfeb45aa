"""Export an `EZCLIP`'s encoders as ONNX (for ONNX Runtime: `ezclip_zoo.runtime`) or ``torch.export`` programs.

``export_model(model, "out_dir", class_names=["dancing", ...])`` writes the video and text encoders, CLIP's BPE
file, the classes' text embeddings and a manifest (``ezclip_export.json``); ``ezclip-zoo export MODEL OUT_DIR`` is
the command. See `export_model`.
"""

from .exporter import DTYPES, QUANTIZATIONS, check_options, export_model

__all__ = ["DTYPES", "QUANTIZATIONS", "check_options", "export_model"]
