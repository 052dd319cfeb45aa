"""Datasets: annotation-format readers (UCF-101, HMDB-51, Kinetics, Something-Something v2, ``path,label`` CSV),
class descriptions, seeded subsets and a clip dataset that decodes videos directly (class texts and templates are
`ezclip_zoo.text`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:  # what a type checker and a reader see; at run time each name imports on first use
    from .csv_list import read_class_descriptions, read_class_list, read_video_csv
    from .dataset import VideoClipDataset, collate_clips
    from .distributed_sampler import ResumableDistributedSampler
    from .formats import read_dataset
    from .hmdb51 import read_hmdb51
    from .kinetics import kinetics_clip_stem, read_kinetics
    from .records import VideoRecord, VideoSplit
    from .seeding import sample_generator, sample_seed
    from .splits import base_novel_classes, sample_k_shot, train_val_split
    from .ssv2 import read_ssv2, read_ssv2_labels
    from .ucf101 import read_ucf101

__all__ = [
    "ResumableDistributedSampler",
    "VideoClipDataset",
    "VideoRecord",
    "VideoSplit",
    "base_novel_classes",
    "collate_clips",
    "kinetics_clip_stem",
    "read_class_descriptions",
    "read_class_list",
    "read_dataset",
    "read_hmdb51",
    "read_kinetics",
    "read_ssv2",
    "read_ssv2_labels",
    "read_ucf101",
    "read_video_csv",
    "sample_generator",
    "sample_k_shot",
    "sample_seed",
    "train_val_split",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        ".csv_list": ("read_class_descriptions", "read_class_list", "read_video_csv"),
        ".dataset": ("VideoClipDataset", "collate_clips"),
        ".distributed_sampler": ("ResumableDistributedSampler",),
        ".formats": ("read_dataset",),
        ".hmdb51": ("read_hmdb51",),
        ".kinetics": ("kinetics_clip_stem", "read_kinetics"),
        ".records": ("VideoRecord", "VideoSplit"),
        ".seeding": ("sample_generator", "sample_seed"),
        ".splits": ("base_novel_classes", "sample_k_shot", "train_val_split"),
        ".ssv2": ("read_ssv2", "read_ssv2_labels"),
        ".ucf101": ("read_ucf101",),
    },
)
