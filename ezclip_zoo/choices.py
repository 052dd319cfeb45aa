"""The vocabularies of the library's options, and the defaults the command line shows.

Torch-free and numpy-free, at the bottom of the package: the functions check their arguments against these tuples
and the ``ezclip-zoo`` parsers offer the same tuples as ``choices``, so ``ezclip-zoo --help`` starts without
importing torch and a choice is never typed twice.
"""

from __future__ import annotations

__all__ = [
    "BACKENDS",
    "BATCH_SIZE",
    "CLASS_SPECIFIC_METHODS",
    "CROPS",
    "DATASET_FORMATS",
    "DTYPE_NAMES",
    "EVALUATION_PROTOCOLS",
    "EXPLAIN_METHODS",
    "EXPORT_FORMATS",
    "LOSSES",
    "NORMALIZATIONS",
    "PRECISIONS",
    "PROTOCOLS",
    "QUANTIZATIONS",
    "SCORES",
    "STRATEGIES",
    "TEMPLATE_CHOICES",
    "TEXT_MODES",
]

PROTOCOLS = ("clip", "reference")
"""Test-time preprocessing: the backbone's open_clip transform, or short side 256 + centre crop 224 (the paper's)."""

STRATEGIES = ("auto", "sequential", "seek")
"""How sampled frames are decoded: chosen by the cost model, every frame in order, or seeking to keyframes."""

BACKENDS = ("pyav", "torchcodec")
"""Video decoders: PyAV (bundled FFmpeg) or torchcodec (the optional extra; needs FFmpeg's shared libraries)."""

CROPS = (1, 3)
"""Spatial views per frame: the centre crop, or three crops along the long side."""

BATCH_SIZE = 8
"""Clips per forward pass of inference, by default."""

TEXT_MODES = ("names", "descriptions")
"""What a class set's text is: its class names, or the authors' one-sentence descriptions."""

TEMPLATE_CHOICES = ("actionclip", "none")
"""Class text for training and evaluation without descriptions: ActionCLIP's 16 templates, or the bare names."""

EXPLAIN_METHODS = ("attention", "rollout", "gradient")
"""Attention maps: the last block's attention, its rollout over blocks, or gradient-weighted (class-specific)."""

CLASS_SPECIFIC_METHODS = ("gradient",)
"""The explanation methods whose map depends on the class asked about."""

NORMALIZATIONS = ("clip", "frame")
"""How attention maps are scaled to [0, 1]: over the whole clip, or each frame on its own."""

DATASET_FORMATS = ("ucf101", "hmdb51", "kinetics", "ssv2", "csv")
"""Annotation formats the dataset readers (and the synthetic dataset writer) know."""

EVALUATION_PROTOCOLS = ("zero-shot", "base-to-novel")
"""The paper's evaluation protocols."""

EXPORT_FORMATS = ("onnx", "torch-export")
"""What ``export_model`` writes: ONNX files for ONNX Runtime, or ``torch.export`` programs."""

QUANTIZATIONS = ("int8",)
"""Weight quantizations ``export_model`` offers besides none."""

PRECISIONS = ("auto", "fp32", "bf16")
"""Autocast precision of evaluation and training: bfloat16 on a GPU that has it (auto), float32, or bfloat16."""

DTYPE_NAMES = {
    "float32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}
"""Names a dtype is given by on the command line -> the ``torch`` attribute."""

SCORES = ("softmax", "sigmoid")
"""What localize's segment rule reads: the softmax over the given classes (with background texts as "no action"), or
each class's sigmoid presence probability (SigLIP-family backbones: no class above ``min_score`` is "no action")."""

LOSSES = ("softmax", "sigmoid")
"""The contrastive part of the training loss: the reference's soft-target softmax KL, or the backbone's own pairwise
sigmoid loss with its frozen scale and bias (SigLIP-family backbones)."""
