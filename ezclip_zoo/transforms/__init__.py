"""The one source of frame preprocessing: the test-time transform (`VideoTransform`) and train-time
augmentation (`ClipAugment`), used by inference, evaluation and the datasets alike.

The names are imported on first use (PEP 562); `pixels` (resize, crop and normalise with PIL and numpy) needs no
torch and is shared with `ezclip_zoo.runtime`.
"""

from .._lazy import lazy_attributes

_NAMES = {
    "PROTOCOLS": ".eval",
    "VideoTransform": ".eval",
    "crop_offsets": ".pixels",
    "preprocess_config": ".eval",
    "preprocess_frames": ".eval",
    "ClipAugment": ".train",
}

__getattr__, __dir__ = lazy_attributes(__name__, _NAMES)

__all__ = ["PROTOCOLS", "ClipAugment", "VideoTransform", "crop_offsets", "preprocess_config", "preprocess_frames"]
