"""Inference of an exported model folder (``ezclip-zoo export``) without PyTorch: ONNX Runtime for the encoders,
numpy/PIL/PyAV for the frames, a torch-free CLIP tokenizer for new class names.

``OnnxModel("out_dir").classify("clip.mp4")`` -> `RuntimeResult`. Importing this package never imports torch.
"""

from .._lazy import lazy_attributes

_NAMES = {
    "OnnxModel": ".onnx_model",
    "RuntimeResult": ".onnx_model",
    "ClipTokenizer": ".tokenizer",
    "FramePreprocess": ".preprocess",
    "read_clip": ".preprocess",
    "MANIFEST_NAME": ".manifest",
    "read_manifest": ".manifest",
}

__getattr__, __dir__ = lazy_attributes(__name__, _NAMES)

__all__ = [
    "ClipTokenizer",
    "FramePreprocess",
    "MANIFEST_NAME",
    "OnnxModel",
    "RuntimeResult",
    "read_clip",
    "read_manifest",
]
