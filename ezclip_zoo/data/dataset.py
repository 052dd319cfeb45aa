"""`VideoClipDataset`: decode, sample and preprocess the clips of a `VideoSplit` for training or evaluation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from ..errors import EZCLIPError
from ..transforms.eval import VideoTransform
from ..transforms.train import ClipAugment
from .records import VideoSplit
from .seeding import sample_generator

__all__ = ["VideoClipDataset", "collate_clips"]

logger = logging.getLogger(__name__)


class VideoClipDataset(Dataset):
    """Clips of T frames straight from video files (no frame-extraction step).

    Training (``train=True``): TSN sampling with a random frame in each of T equal segments, then ``augment``.
    Evaluation: segment centres, then the test-time protocol: ``"reference"`` (EZ-CLIP/ActionCLIP: short side to
    ``image_size * 256 // 224``, bilinear, centre crop) or ``"clip"`` (the backbone's own: short side to
    ``image_size``, bicubic, centre crop); ``num_clips`` x ``num_crops`` views for multi-view testing. The random
    choices of a training clip depend only on ``(seed, epoch, index)`` (see `set_epoch`), so results do not
    depend on the number of data-loader workers, and a resumed run sees exactly the clips an uninterrupted one
    would.

    A video that cannot be decoded does not raise: its item is ``{"error": message, "path", "index", "label"}``;
    `collate_clips` drops it from the batch and lists it in ``batch["failures"]``, which the trainer logs and counts.

    Args:
        split: the videos and classes.
        num_frames: T (``model.num_frames``).
        image_size: output side in pixels (``model.image_size``).
        train: training sampling and augmentation (True) or the test protocol (False).
        augment: the training augmentation; default ``ClipAugment(image_size)`` (flip on: pass
            ``ClipAugment(image_size, flip=False)`` for direction-sensitive classes such as SSv2's).
        seed: base of every per-clip random stream.
        protocol: test-time preprocessing, ``"reference"`` or ``"clip"``, with OpenAI CLIP's mean/std (or pass
            ``transform``).
        transform: the test-time transform itself, e.g. ``VideoTransform.from_model(model, protocol)``; its
            ``num_crops`` is the number of crops.
        num_clips, num_crops: test-time views (1 and 1 is the reference's single view; crops 1 or 3).
        decode_threads: FFmpeg threads per video (parallelism normally comes from data-loader workers).

    Items: ``{"frames": float32 [T, 3, S, S] (or [V, T, 3, S, S] with several views), "label": int, "index": int}``.
    """

    def __init__(
        self,
        split: VideoSplit,
        num_frames: int,
        image_size: int,
        *,
        train: bool = False,
        augment: ClipAugment | None = None,
        seed: int = 0,
        protocol: str = "reference",
        num_clips: int = 1,
        num_crops: int = 1,
        decode_threads: int = 1,
        transform: VideoTransform | None = None,
    ) -> None:
        if num_frames < 1 or image_size < 1:
            raise ValueError(f"num_frames and image_size must be positive, got {num_frames}, {image_size}")
        if protocol not in ("reference", "clip"):
            raise ValueError(f"protocol must be 'reference' or 'clip', got {protocol!r}")
        if num_clips < 1 or num_crops not in (1, 3):
            raise ValueError(f"num_clips must be >= 1 and num_crops 1 or 3, got {num_clips}, {num_crops}")
        if train and (num_clips, num_crops) != (1, 1):
            raise ValueError("multi-view sampling is a test-time protocol; training takes one view")
        self.split = split
        self.classes = list(split.classes)
        self.num_frames = int(num_frames)
        self.image_size = int(image_size)
        self.train = bool(train)
        self.augment = (augment or ClipAugment(image_size)) if train else None
        self.seed = int(seed)
        self.protocol = protocol
        self.num_clips, self.num_crops = int(num_clips), int(num_crops)
        self.decode_threads = int(decode_threads)
        self.epoch = 0
        if transform is not None and transform.image_size != self.image_size:
            raise ValueError(f"transform makes {transform.image_size} px frames, the dataset {self.image_size} px")
        self.transform = (
            None
            if train
            else (
                transform
                if transform is not None
                else VideoTransform.for_protocol(self.image_size, protocol, num_crops)
            )
        )
        if self.transform is not None:
            self.num_crops = self.transform.num_crops

    def set_epoch(self, epoch: int) -> None:
        """Select the random streams of ``epoch`` (call before iterating, as with ``DistributedSampler``)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.split)

    @property
    def labels(self) -> list[int]:
        """The class index of every clip, in dataset order (what stratified and k-shot sampling read)."""
        return self.split.labels

    def __getitem__(self, index: int) -> dict[str, Any]:
        from ..video import read_video_clips, read_video_frames  # decoding libraries load when items are read

        record = self.split.records[index]
        try:
            if self.train:
                generator = sample_generator(self.seed, self.epoch, index)
                frames = read_video_frames(
                    record.path, self.num_frames, mode="train", generator=generator, threads=self.decode_threads
                )
                augment = self.augment
                assert augment is not None  # a training dataset always has one
                clip = augment(frames, generator)
            else:
                transform = self.transform
                assert transform is not None  # a test-time dataset always has one
                clips = read_video_clips(
                    record.path,
                    self.num_frames,
                    num_clips=self.num_clips,
                    mode="test",
                    transform=transform,
                    threads=self.decode_threads,
                )
                views = torch.cat([transform.stack(c) for c in clips.frames])  # [clips * crops, T, 3, S, S]
                clip = views[0] if views.shape[0] == 1 else views
        except (EZCLIPError, OSError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "path": record.path, "index": index, "label": record.label}
        return {"frames": clip, "label": record.label, "index": index}


def collate_clips(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch dataset items, dropping the ones that failed to decode.

    Returns:
        ``{"frames": float32 [B, T, 3, S, S] or None when every item failed, "labels": int64 [B],
        "indices": int64 [B], "failures": [(path, message), ...]}``.
    """
    good = [it for it in items if "error" not in it]
    failures = [(it["path"], it["error"]) for it in items if "error" in it]
    for path, message in failures:
        logger.warning("skipping %s: %s", path, message)
    return {
        "frames": torch.stack([it["frames"] for it in good]) if good else None,
        "labels": torch.tensor([it["label"] for it in good], dtype=torch.long),
        "indices": torch.tensor([it["index"] for it in good], dtype=torch.long),
        "failures": failures,
    }
