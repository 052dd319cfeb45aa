"""The one source of frame preprocessing: the test-time transform (`VideoTransform`) and train-time
augmentation (`ClipAugment`), used by inference, evaluation and the datasets alike."""

from .eval import PROTOCOLS, VideoTransform, crop_offsets, preprocess_config, preprocess_frames
from .train import ClipAugment

__all__ = ["PROTOCOLS", "ClipAugment", "VideoTransform", "crop_offsets", "preprocess_config", "preprocess_frames"]
